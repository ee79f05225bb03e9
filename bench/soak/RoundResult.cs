namespace FailoverWatch.Soak;

/// <summary>One round's outcome; <see cref="Evidence"/> names the folder kept when it broke an invariant.</summary>
internal sealed record RoundResult(
    int Number,
    Fault Fault,
    int NodeCount,
    WriteAnalysis Writes,
    IReadOnlyList<string> Violations,
    string Notes,
    int Acks,
    int ClientErrors,
    TimeSpan Duration)
{
    public string? Evidence { get; init; }
}
