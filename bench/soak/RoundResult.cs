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
    TimeSpan Duration)
{
    public string? Evidence { get; init; }
}
