namespace FailoverWatch.Soak;

/// <summary>
/// One round's outcome. <see cref="SettleSeconds"/>: from the end of the fault (SIGCONT, relay restored,
/// monitor or old primary restarted) until one writable node was named by <c>/status</c>; null when it never
/// was. <see cref="Evidence"/> names the folder kept when the round broke an invariant.
/// </summary>
internal sealed record RoundResult(
    int Number,
    Fault Fault,
    int NodeCount,
    WriteAnalysis Writes,
    IReadOnlyList<string> Violations,
    string Notes,
    double? SettleSeconds,
    int Acks,
    int ClientErrors,
    TimeSpan Duration) : ISoakResult
{
    public string Label => Fault.Name();

    public string? Evidence { get; init; }

    /// <summary>Whether the round ran with <c>replication.mode: sync</c> (SOAK_SYNC).</summary>
    public bool Sync { get; init; }

    /// <summary>The host's rejoin of the old primary: when the pair streamed again, and what its salvage holds.</summary>
    public RoundRejoin Rejoin { get; init; } = RoundRejoin.None;

    /// <summary>A synchronous round whose monitor had dropped its synchronous standby before the fault: the asynchronous rules applied.</summary>
    public bool DegradedBeforeFault { get; init; }

    /// <summary>The machine's 1-minute load average as the round ended.</summary>
    public double LoadAverage { get; init; }
}
