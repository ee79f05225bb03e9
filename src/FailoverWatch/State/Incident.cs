using FailoverWatch.Monitoring;

namespace FailoverWatch.State;

/// <summary>
/// One failover, held failover, refused promotion, split brain or adoption, as it happened: the rounds that led to
/// it, the decision and its reason, each phase with its time, and the WAL a promotion lost. Kept in the state.
/// </summary>
internal sealed record Incident
{
    /// <summary>How many incidents the state keeps, newest last.</summary>
    public const int Kept = 50;

    public required string Id { get; init; }

    /// <summary>One of <see cref="IncidentKinds"/>.</summary>
    public required string Kind { get; init; }

    public required string Decision { get; init; }

    public required string Reason { get; init; }

    public string? From { get; init; }

    public string? To { get; init; }

    /// <summary>Null while under way; then <c>promoted</c>, <c>failed</c>, or <c>recorded</c> for an incident with nothing to carry out.</summary>
    public string? Result { get; init; }

    /// <summary>The primary's last known WAL position minus what the promoted node held: committed WAL the failover lost.</summary>
    public long? WalLostBytes { get; init; }

    public IReadOnlyList<IncidentPhase> Phases { get; init => field = value ?? []; } = [];

    /// <summary>The rejoin of the old primary that followed, once it streams.</summary>
    public IncidentRejoin? Rejoin { get; init; }

    /// <summary>What only the old primary had, saved before its rewind (null: nothing past the fork).</summary>
    public SalvageRecord? Salvage { get; init; }

    /// <summary>A drill's outcome: the canary's count, what it lost, and when writes were refused.</summary>
    public DrillOutcome? Drill { get; init; }

    /// <summary>The rounds up to and including the deciding one, oldest first, each with what the policy was given.</summary>
    public IReadOnlyList<IncidentRound> Rounds { get; init => field = value ?? []; } = [];

    /// <summary>The policy's settings when it decided, so <c>failoverwatch explain</c> replays with them.</summary>
    public required FailoverPolicySettings Settings { get; init; }

    public DateTimeOffset At => Phases.Count > 0 ? Phases[0].At : Rounds.LastOrDefault()?.At ?? default;
}

/// <summary>A node brought back as a standby: whether it had to be rewound, and how long its rejoin_command took.</summary>
internal sealed record IncidentRejoin(string Node, bool Rewound, double TookSeconds);

/// <param name="Name">detected, decided, fence, promote, writable, checkpoint, hook, rejoin; a drill's steps.</param>
/// <param name="Ok">False when the step failed; <paramref name="Detail"/> says why.</param>
internal sealed record IncidentPhase(string Name, DateTimeOffset At, bool Ok, string? Detail)
{
    /// <summary>How long a step timed from its start took (a drill's); the other phases are moments.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? Seconds { get; init; }
}

/// <summary>One round exactly as <c>FailoverPolicy.Decide</c> saw it, and what it decided.</summary>
/// <param name="Quorum">With coordination, the monitors' votes the leader decided with (null for one monitor alone).</param>
internal sealed record IncidentRound(
    DateTimeOffset At,
    IReadOnlyList<NodeReport> Reports,
    string? PrimaryLsn,
    string? RecordedPrimary,
    bool Paused,
    FailoverInProgress? InProgress,
    PrimaryHealth Health,
    string Decision,
    string Reason,
    MonitorQuorum? Quorum = null)
{
    public ClusterView View() => ClusterView.Build(Reports, RecordedPrimary, Lsn.ParseOrNull(PrimaryLsn), At);

    public FailoverState State() => new() { Primary = RecordedPrimary, Paused = Paused, InProgress = InProgress };
}

internal static class IncidentKinds
{
    public const string Failover = "failover";
    public const string HeldFailover = "held_failover";
    public const string RefusedPromotion = "refused_promotion";
    public const string SplitBrain = "split_brain";
    public const string Adoption = "adoption";
    public const string Drill = "drill";

    public static readonly string[] All = [Failover, HeldFailover, RefusedPromotion, SplitBrain, Adoption, Drill];
}

internal static class IncidentPhases
{
    public const string Detected = "detected";
    public const string Decided = "decided";
    public const string Fence = "fence";
    public const string Promote = "promote";
    public const string Writable = "writable";
    public const string Checkpoint = "checkpoint";
    public const string Hook = "hook";
    public const string Rejoin = "rejoin";
}
