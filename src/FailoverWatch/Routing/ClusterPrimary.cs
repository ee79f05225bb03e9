using FailoverWatch.Failover;
using FailoverWatch.Monitoring;

namespace FailoverWatch.Routing;

/// <summary>
/// Which node is the cluster's primary, as <c>/status</c> names it and <c>/primary/NODE</c> answers for it:
/// the recorded primary while it is writable; without a record, the only writable node. A returning old
/// primary is never named, whatever it says about itself.
/// </summary>
internal static class ClusterPrimary
{
    public static string? Name(ClusterView? view, FailoverState state)
    {
        var writable = view?.Primaries.Select(p => p.Name).ToList() ?? [];
        if (state.Primary is not { } recorded)
        {
            return writable.Count == 1 ? writable[0] : null;
        }

        // A promotion confirmed writable after the last round: the round that shows it is up to an interval away,
        // and clients should not wait for it.
        var promotedSinceRound = state.LastFailover is { } last && last.To == recorded && (view is null || last.At > view.At);
        return writable.Contains(recorded) || promotedSinceRound ? recorded : null;
    }
}
