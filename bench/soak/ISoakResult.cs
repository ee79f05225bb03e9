namespace FailoverWatch.Soak;

/// <summary>What the common loop and report read of any round's outcome, one monitor or three.</summary>
internal interface ISoakResult
{
    int Number { get; }

    int NodeCount { get; }

    /// <summary>The fault (or faults) the round drew, as the report names them.</summary>
    string Label { get; }

    IReadOnlyList<string> Violations { get; }

    string Notes { get; }

    int Acks { get; }

    /// <summary>The folder kept when the round broke an invariant.</summary>
    string? Evidence { get; }
}
