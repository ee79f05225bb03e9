using FailoverWatch.Configuration;

namespace FailoverWatch.Failover;

internal sealed record FailoverPolicySettings(
    int FailureThreshold,
    long MaxLagOnFailoverBytes,
    bool AutoFailover,
    IReadOnlyList<string> NodeOrder,
    TimeSpan RetryAfterFailedPromotion)
{
    public static FailoverPolicySettings From(FailoverWatchOptions options) => new(
        options.Monitor.FailureThreshold,
        options.Monitor.MaxLagOnFailover.Bytes,
        options.Monitor.AutoFailover,
        [.. options.Cluster.Nodes.Select(n => n.Name)],
        options.Monitor.ProbeInterval * Math.Max(10, options.Monitor.FailureThreshold));
}
