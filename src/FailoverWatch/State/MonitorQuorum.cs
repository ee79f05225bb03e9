namespace FailoverWatch.State;

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

    /// <summary>
    /// The node the live monitors last saw as the only writable one, when as many agree as it takes to fail over
    /// (a strict majority, at least two of several) and none names another; null otherwise.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? LastWritable { get; init; }

    public string Describe() =>
        $"{SeeingPrimaryDown.Count} of {LiveMonitors} live monitors see it down" + (SeeingPrimaryDown.Count > 0 ? $" ({string.Join(", ", SeeingPrimaryDown)})" : "");
}
