namespace FailoverWatch.State;

/// <summary>The incident's <c>salvage</c> record and <c>summary.json</c>: what only the node had, and where it was saved.</summary>
internal sealed record SalvageRecord(
    int Commits,
    long Bytes,
    string ForkLsn,
    string EndLsn,
    DateTimeOffset? FirstCommitAt,
    DateTimeOffset? LastCommitAt,
    IReadOnlyList<string> Relations,
    string Dir,
    string? IncompleteFrom);
