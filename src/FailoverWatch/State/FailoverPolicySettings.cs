using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;

namespace FailoverWatch.State;

/// <param name="Nodes">The configured nodes in config order (the tie-break), with the addresses standbys stream from.</param>
internal sealed record FailoverPolicySettings(
    int FailureThreshold,
    long MaxLagOnFailoverBytes,
    bool AutoFailover,
    IReadOnlyList<NodeEndpoint> Nodes,
    TimeSpan RetryAfterFailedPromotion,
    TimeSpan PromotionTimeout)
{
    public static FailoverPolicySettings From(FailoverWatchOptions options) => new(
        options.Monitor.FailureThreshold,
        options.Monitor.MaxLagOnFailover.Bytes,
        options.Monitor.AutoFailover,
        [.. options.Cluster.Nodes.Select(n => new NodeEndpoint(n.Name, n.Host, n.Port))],
        options.Monitor.ProbeInterval * Math.Max(10, options.Monitor.FailureThreshold),
        options.Monitor.PromotionTimeout);
}

/// <summary>A node's name and the address it is configured at.</summary>
internal sealed record NodeEndpoint(string Name, string Host, int Port)
{
    /// <summary>Whether a WAL receiver's sender is this node, as far as the configured address tells.</summary>
    public bool Is(WalReceiverState? receiver) =>
        receiver is { SenderHost: { } host, SenderPort: { } port } && port == Port && string.Equals(host, Host, StringComparison.OrdinalIgnoreCase);
}
