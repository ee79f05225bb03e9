namespace FailoverWatch.Coordination;

/// <summary>
/// What the live monitors say about the recorded primary, as the failover policy takes it: how many are alive
/// (registered in etcd) and which of them have seen it fail <c>failure_threshold</c> probes in a row.
/// </summary>
internal sealed record MonitorQuorum(int LiveMonitors, IReadOnlyList<string> SeeingPrimaryDown)
{
    /// <summary>One monitor, no coordination: today's single-monitor rules.</summary>
    public static MonitorQuorum Alone { get; } = new(1, []);

    /// <summary>Several monitors vote; with one live monitor its own probes decide as before.</summary>
    public bool Votes => LiveMonitors >= 2;

    /// <summary>A strict majority of the live monitors, at least two, see the primary down.</summary>
    public bool MajoritySeesPrimaryDown => Votes && SeeingPrimaryDown.Count >= 2 && SeeingPrimaryDown.Count * 2 > LiveMonitors;

    public string Describe() =>
        $"{SeeingPrimaryDown.Count} of {LiveMonitors} live monitors see it down" + (SeeingPrimaryDown.Count > 0 ? $" ({string.Join(", ", SeeingPrimaryDown)})" : "");

    /// <summary>
    /// Counts the votes of the live monitors' views (<see cref="MonitorVotes"/> leaves out those no longer
    /// published): a view judging another primary is a live monitor that does not see the primary down.
    /// </summary>
    public static MonitorQuorum From(IReadOnlyCollection<MonitorView> views, string? primary, int failureThreshold) => new(
        views.Count,
        [.. views
            .Where(v => primary is not null && v.Primary == primary && v.PrimaryFailures >= failureThreshold)
            .Select(v => v.Name)
            .Order(StringComparer.Ordinal)]);
}
