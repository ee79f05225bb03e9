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
internal sealed class LeaderForwarder(ClusterCoordination coordination, FailoverWatchOptions options, ILogger<LeaderForwarder> logger)
{
    private const string ForwardedHeader = "X-FailoverWatch-Forwarded-By";

    // A switchover waits for catch-up, stop and replay: up to a few minutes. https verified against http.tls.ca_file.
    private readonly HttpClient _http = MonitorHttpClient.Create(options.Http, TimeSpan.FromMinutes(5));

    /// <summary>Null when this monitor leads and handles the request itself; else the leader's answer, or 503 without one.</summary>
    public async Task<IResult?> ForwardAsync(HttpRequest request, CancellationToken cancellationToken)
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
        try
        {
            using var response = await _http.SendAsync(forwarded, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return Results.Content(body, response.Content.Headers.ContentType?.ToString(), statusCode: (int)response.StatusCode);
        }
        catch (HttpRequestException e)
        {
            return Results.Problem($"the leader {leader.Name} at {leader.Http} did not answer: {MonitorHttpClient.Why(e)}", statusCode: StatusCodes.Status502BadGateway);
        }
    }
}
