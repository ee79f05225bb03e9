using FailoverWatch.Failover;
using FailoverWatch.Monitoring;
using FailoverWatch.State;

namespace FailoverWatch.Routing;

/// <summary>
/// The one rule for which node is the cluster's primary, as <c>/status</c> names it and <c>/primary/NODE</c> answers
/// for it: during a failover, its target once writable and never the node it moves away from; otherwise the recorded
/// primary while writable; without a record, the only writable node. A node whose timeline does not descend from the
/// recorded primary's (a returning old primary) is never named, whatever it says about itself. Pure: the last round's
/// view and the recorded state only.
/// </summary>
internal static class ClusterPrimary
{
    public static string? Name(ClusterView? view, FailoverState state)
    {
        var writable = view?.Primaries.Where(p => PrimaryLineage.Descends(p, state)).Select(p => p.Name).ToList() ?? [];

        // A promotion confirmed writable after the last round: the round that shows it is up to an interval away,
        // and clients should not wait for it.
        var promotedSinceRound = state.LastFailover is { } last && last.To == state.Primary && (view is null || last.At > view.At);

        // A failover under way: the old primary may come back writable while it is fenced; clients go to the target
        // as soon as it takes writes, before or after it is recorded. An abandoned failover clears this, and the
        // recorded primary gets its answer back.
        if (state.InProgress is { } failover)
        {
            var targetWritable = view?.Find(failover.To) is { IsReachablePrimary: true } || (promotedSinceRound && state.Primary == failover.To);
            return targetWritable ? failover.To : null;
        }

        if (state.Primary is not { } recorded)
        {
            return writable.Count == 1 ? writable[0] : null;
        }

        return writable.Contains(recorded) || promotedSinceRound ? recorded : null;
    }
}
