using FailoverWatch.Monitoring;
using FailoverWatch.State;

namespace FailoverWatch.Failover;

/// <summary>
/// Whether a writable node carries on from the recorded primary's history or is one replaced before it (however many
/// failovers ago) come back on its old timeline. Each promotion starts a timeline numbered above every one it
/// descends from, so a node other than the last recorded primary descends from it only on a later timeline; two nodes
/// promoted from one timeline both reach the next number, so an equal number is a fork, never a descendant.
/// </summary>
internal static class PrimaryLineage
{
    public static bool Descends(NodeStatus node, FailoverState state) => state.Timelines.LastOrDefault() switch
    {
        // Nothing recorded yet (first start, a state file from before timelines were recorded): nothing to compare.
        null => true,
        { } last when last.Node == node.Name => node.Report.Timeline is not { } own || own >= last.Timeline,

        // A timeline it does not say cannot be placed: not named, not adopted.
        { } last => node.Report.Timeline is { } timeline && timeline > last.Timeline,
    };

    /// <summary>In words for a log line: why <paramref name="node"/> does not descend.</summary>
    public static string Describe(NodeStatus node, FailoverState state) =>
        $"{node.Name} is on timeline {node.Report.Timeline?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}, not after timeline {state.Timelines.LastOrDefault()?.Timeline} of the recorded primary {state.Timelines.LastOrDefault()?.Node}";

    /// <summary>The state with <paramref name="primary"/>'s timeline recorded, when it is writable on one not recorded yet.</summary>
    public static FailoverState Record(FailoverState state, NodeStatus? primary) =>
        primary is { IsReachablePrimary: true, Report.Timeline: { } timeline } && primary.Name == state.Primary && Descends(primary, state)
            && state.Timelines.LastOrDefault() != new PrimaryTimeline(primary.Name, timeline)
            ? state with { Timelines = [.. state.Timelines, new PrimaryTimeline(primary.Name, timeline)] }
            : state;
}
