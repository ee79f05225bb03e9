using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;

namespace FailoverWatch.Readiness;

/// <summary>
/// "Would a failover work right now?": asks every check at once. The one implementation behind both
/// <c>failoverwatch doctor</c> and the host's <c>failoverwatch_failover_ready</c>.
/// </summary>
internal sealed class FailoverReadiness(FailoverWatchOptions options, TimeProvider time)
{
    // Coordination reachable (issue 10) joins here as one more IReadinessCheck.
    private readonly IReadinessCheck[] _checks = [new StandbyStateCheck(), new NodeSetupCheck(), new CommandCheck(), new LocalFilesCheck(), new SyncReplicationCheck(), new RejoinGrantsCheck(), new RepointGrantsCheck()];

    public async Task<ReadinessReport> CheckAsync(ClusterView view, string? primary, CancellationToken cancellationToken)
    {
        var context = new ReadinessContext(options, view, primary);
        var found = await Task.WhenAll(_checks.Select(c => c.CheckAsync(context, cancellationToken)));
        return ReadinessReport.From(view, primary, [.. found.SelectMany(p => p)], time.GetUtcNow());
    }
}
