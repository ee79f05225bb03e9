namespace FailoverWatch.State;

/// <summary>
/// The part of the cluster state synchronous replication keeps: the standbys recorded as holding every acknowledged
/// commit (the only ones a failover may promote while any is recorded), and since when fewer than
/// <c>replication.number</c> are, after the last one was dropped.
/// </summary>
internal sealed record SyncReplicationState
{
    public IReadOnlyList<string> Standbys { get; init => field = value ?? []; } = [];

    public DateTimeOffset? DegradedSince { get; init; }

    public static SyncReplicationState None { get; } = new();

    /// <summary>After a change of primary: the new one's standbys confirmed nothing of it yet.</summary>
    public SyncReplicationState ForNewPrimary(DateTimeOffset now) =>
        Standbys.Count == 0 ? this : new SyncReplicationState { DegradedSince = now };
}
