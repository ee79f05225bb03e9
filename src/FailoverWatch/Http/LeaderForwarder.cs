using System.Net.Http.Headers;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Http;

/// <summary>
/// Lets any monitor take <c>pause</c>, <c>resume</c> and <c>switchover</c>: a monitor that does not lead passes the request,
/// bearer token included, to the leader's HTTP address (as it published it) and answers with the leader's answer.
/// </summary>
internal sealed class LeaderForwarder(ClusterCoordination coordination, FailoverWatchOptions options, TimeProvider time, ILogger<LeaderForwarder> logger)
{
    private const string ForwardedHeader = "X-FailoverWatch-Forwarded-By";

    // Pause and resume: one state write on the leader.
    private static readonly TimeSpan Brief = TimeSpan.FromMinutes(1);

    // Bounded per request, not here. https verified against http.tls.ca_file.
    private readonly HttpClient _http = MonitorHttpClient.Create(options.Http, Timeout.InfiniteTimeSpan, time, logger);

    /// <summary>Null when this monitor leads and handles the request itself; else the leader's answer, or 503 without one.</summary>
    /// <param name="within">
    /// How long to wait for the leader's answer, one minute by default. <see cref="Timeout.InfiniteTimeSpan"/> for a
    /// switchover or a drill: the leader bounds those itself (a drill step may wait rejoin_timeout + rejoin_retry), and a
    /// fixed cap here would answer a failure while the leader still works. The caller going away always ends the wait.
    /// </param>
    public async Task<IResult?> ForwardAsync(HttpRequest request, CancellationToken cancellationToken, TimeSpan? within = null)
    {
        if (coordination.IsLeader)
        {
            return null;
        }

        var leader = coordination.Monitors.FirstOrDefault(m => m.Name == coordination.Leader);
        if (leader is null || request.Headers.ContainsKey(ForwardedHeader))
        {
            return Results.Problem("no monitor leads right now (etcd without quorum, or an election under way); try again in a few seconds", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        logger.Forwarding($"{request.Method} {request.Path}", leader.Name, leader.Http);
        using var forwarded = new HttpRequestMessage(HttpMethod.Post, new Uri(leader.Http + request.Path + request.QueryString));
        if (AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var authorization))
        {
            forwarded.Headers.Authorization = authorization;
        }

        forwarded.Headers.Add(ForwardedHeader, coordination.MonitorName);
        using var callerGone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, request.HttpContext.RequestAborted);
        return await WithinAsync(
            async token =>
            {
                try
                {
                    using var response = await _http.SendAsync(forwarded, token);
                    var body = await response.Content.ReadAsStringAsync(token);
                    return Results.Content(body, response.Content.Headers.ContentType?.ToString(), statusCode: (int)response.StatusCode);
                }
                catch (HttpRequestException e)
                {
                    return Results.Problem($"the leader {leader.Name} at {leader.Http} did not answer: {MonitorHttpClient.Why(e)}", statusCode: StatusCodes.Status502BadGateway);
                }
            },
            within ?? Brief,
            $"the leader {leader.Name} at {leader.Http}",
            time,
            callerGone.Token);
    }

    /// <summary>
    /// <paramref name="send"/>'s answer, or 504 once <paramref name="within"/> has passed (never, when infinite). The
    /// caller going away (<paramref name="cancellationToken"/>) cancels the wait, and only the wait: the leader goes on.
    /// </summary>
    internal static async Task<IResult> WithinAsync(Func<CancellationToken, Task<IResult>> send, TimeSpan within, string leader, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(within, time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await send(wait.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Results.Problem($"{leader} did not answer within {within.TotalSeconds:0} s", statusCode: StatusCodes.Status504GatewayTimeout);
        }
    }
}
