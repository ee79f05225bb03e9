using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;

namespace FailoverWatch.Readiness;

/// <summary>
/// One of the doctor's questions. <see cref="FailoverReadiness"/> asks them all, for <c>failoverwatch doctor</c>
/// and for the host's <c>failoverwatch_failover_ready</c> alike; a new check (coordination reachable) is one more
/// implementation in its list.
/// </summary>
internal interface IReadinessCheck
{
    Task<IReadOnlyList<ReadinessProblem>> CheckAsync(ReadinessContext context, CancellationToken cancellationToken);
}

/// <param name="View">The round the checks judge (the host's last round; the doctor's own probe).</param>
/// <param name="Primary">The primary as <c>/status</c> names it, or null.</param>
internal sealed record ReadinessContext(FailoverWatchOptions Options, ClusterView View, string? Primary);
