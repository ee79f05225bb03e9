namespace FailoverWatch.Monitoring;

/// <summary>What one probe of one node found. Immutable; a failed probe has <see cref="Failure"/> and nothing else.</summary>
internal sealed record NodeReport
{
    public required string Node { get; init; }

    public required DateTimeOffset ProbedAt { get; init; }

    public required TimeSpan Duration { get; init; }

    public ProbeFailure? Failure { get; init; }

    public bool Reachable => Failure is null;

    public NodeRole Role { get; init; } = NodeRole.Unknown;

    /// <summary>Not in recovery and not forced read-only (<c>default_transaction_read_only</c>).</summary>
    public bool Writable { get; init; }

    /// <summary>The primary's current WAL position (primaries only).</summary>
    public Lsn? CurrentLsn { get; init; }

    /// <summary>Last WAL position received and flushed by the standby.</summary>
    public Lsn? ReceiveLsn { get; init; }

    /// <summary>Last WAL position replayed by the standby.</summary>
    public Lsn? ReplayLsn { get; init; }

    public DateTimeOffset? LastReplayedTransactionAt { get; init; }

    /// <summary>The server's clock at the probe, so replay delay is measured on one clock.</summary>
    public DateTimeOffset? ServerTime { get; init; }

    public bool ReplayPaused { get; init; }

    public int? Timeline { get; init; }

    public WalReceiverState? WalReceiver { get; init; }

    /// <summary>What the standby holds safely: received WAL, or replayed WAL when it has not received any since start.</summary>
    public Lsn? HeldLsn => (ReceiveLsn, ReplayLsn) switch
    {
        ({ } received, { } replayed) => Lsn.Max(received, replayed),
        (var received, var replayed) => received ?? replayed,
    };

    public static NodeReport Failed(string node, DateTimeOffset probedAt, TimeSpan duration, ProbeFailure failure) =>
        new() { Node = node, ProbedAt = probedAt, Duration = duration, Failure = failure };
}
