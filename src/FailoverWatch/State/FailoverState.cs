namespace FailoverWatch.State;

/// <summary>
/// What must survive a monitor restart: who the primary is, whether automatic failover is paused,
/// and a failover under way (written before promoting, so a restart finishes or abandons it, never repeats it).
/// </summary>
/// <remarks>
/// Lists coalesce null to empty: the generated JSON reader sets a property missing from the file to null (a state
/// file from before incidents existed, one written by hand), where the initialiser would have been expected.
/// </remarks>
internal sealed record FailoverState
{
    public string? Primary { get; init; }

    public bool Paused { get; init; }

    public FailoverInProgress? InProgress { get; init; }

    /// <summary>
    /// A node pg_promote reached whose promotion was given up: its startup process may still finish it at any time, so
    /// no other standby is promoted until a fence of it works (or it turns writable and is adopted).
    /// </summary>
    public string? PromotionPending { get; init; }

    /// <summary>
    /// The primary's WAL position when last seen healthy (text form), so a monitor restarted while the
    /// primary is down can still tell how much WAL a standby lacks. Saved when it moves a WAL segment, or half
    /// of max_lag_on_failover when that is less (<c>PrimaryPositionSave</c>), so it is never staler than that.
    /// </summary>
    public string? PrimaryLsn { get; init; }

    public IReadOnlyList<FailoverRecord> History { get; init => field = value ?? []; } = [];

    /// <summary>Each primary with the timeline it was first seen writable on, oldest first: what <c>PrimaryLineage</c> checks a writable node against.</summary>
    public IReadOnlyList<PrimaryTimeline> Timelines { get; init => field = value ?? []; } = [];

    /// <summary>The last change of primary the monitor made or took over (not a failed attempt).</summary>
    public FailoverRecord? LastFailover => History.LastOrDefault(h => h.Result is FailoverResults.Promoted or FailoverResults.Adopted);

    /// <summary>The last incidents (failovers, held failovers, refusals, split brains, adoptions), oldest first.</summary>
    public IReadOnlyList<Incident> Incidents { get; init => field = value ?? []; } = [];

    /// <summary>Synchronous replication: the standbys recorded as holding every acknowledged commit (see SyncSetPolicy).</summary>
    public SyncReplicationState Replication { get; init => field = value ?? SyncReplicationState.None; } = SyncReplicationState.None;

    /// <summary>Rejoins asked for and not yet done (see RejoinService): they outlive a monitor restart.</summary>
    public IReadOnlyList<PendingRejoin> Rejoins { get; init => field = value ?? []; } = [];

    public static FailoverState Empty { get; } = new();
}

/// <param name="PromoteSentAt">When pg_promote reached the target: from then on it is watched until writable (or monitor.promotion_timeout), never promoted again.</param>
internal sealed record FailoverInProgress(string From, string To, DateTimeOffset StartedAt, DateTimeOffset? PromoteSentAt = null);

internal sealed record PrimaryTimeline(string Node, int Timeline);

internal sealed record FailoverRecord(string From, string To, DateTimeOffset At, string Result, string Reason);

/// <summary>The <c>result</c> label values of <c>failoverwatch_failovers_total</c> (<see cref="All"/>), and the results a history record may have.</summary>
internal static class FailoverResults
{
    public const string Promoted = "promoted";
    public const string RefusedLag = "refused_lag";
    public const string Failed = "failed";

    /// <summary>History only: a node found writable while the recorded primary was dead, taken over without a promotion.</summary>
    public const string Adopted = "adopted";

    public static readonly string[] All = [Promoted, RefusedLag, Failed];
}
