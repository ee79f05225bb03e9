using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;
using FailoverWatch.State;

namespace FailoverWatch.Routing;

/// <summary>
/// The answers of <c>GET /primary/NODE</c> and <c>GET /replica/NODE</c>, HAProxy's health checks. Pure and cheap:
/// read from the last round's view and the recorded state, never a probe of their own.
/// </summary>
internal static class RoutingCheck
{
    public const int Ok = 200;
    public const int NotFound = 404;
    public const int Unavailable = 503;
    public const int BadRequest = 400;

    public static RoutingAnswer Primary(string node, IReadOnlyList<string> nodes, ClusterView? view, FailoverState state)
    {
        if (!nodes.Contains(node))
        {
            return new(NotFound, $"{node} is not a node of this cluster");
        }

        var primary = ClusterPrimary.Name(view, state);
        return primary == node
            ? new(Ok, $"{node} is the primary")
            : new(Unavailable, $"{node} is not the primary (primary: {primary ?? "none"})");
    }

    /// <param name="maxLag">The <c>max_lag</c> query value (a size such as <c>16MB</c>), or null for any lag.</param>
    public static RoutingAnswer Replica(string node, string? maxLag, IReadOnlyList<string> nodes, ClusterView? view)
    {
        if (!nodes.Contains(node))
        {
            return new(NotFound, $"{node} is not a node of this cluster");
        }

        ByteSize? limit = null;
        if (maxLag is not null)
        {
            if (!ByteSize.TryParse(maxLag, out var parsed))
            {
                return new(BadRequest, $"max_lag: '{maxLag}' is not a size such as 16MB");
            }

            limit = parsed;
        }

        return view?.Find(node) switch
        {
            null => new(Unavailable, $"{node} has not been probed yet"),
            { IsReachableStandby: false } status => new(Unavailable, $"{node} is not a reachable standby ({(status.Report.Reachable ? "it is " + status.Report.Role.ToString().ToLowerInvariant() : status.Report.Failure?.ToString())})"),
            { IsStreaming: false } => new(Unavailable, $"{node} is a standby but its WAL receiver is not streaming"),
            { LagBytes: { } lag } when limit is { } l && lag > l.Bytes => new(Unavailable, $"{node} replays {lag} bytes behind the primary, above max_lag {l}"),
            var status => new(Ok, $"{node} is a streaming standby, {status.LagBytes ?? 0} bytes behind"),
        };
    }
}

internal sealed record RoutingAnswer(int StatusCode, string Text);
