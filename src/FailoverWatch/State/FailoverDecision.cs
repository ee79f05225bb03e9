namespace FailoverWatch.State;

/// <summary>What the policy wants done this round, always with the reason in plain words.</summary>
internal abstract record FailoverDecision(string Reason);

/// <summary>Nothing to do: the primary is healthy, or it has not failed often enough yet.</summary>
internal sealed record NoAction(string Reason) : FailoverDecision(Reason);

/// <summary>Record a node as the primary without touching any server (first start, or a role change made by hand).</summary>
internal sealed record AdoptPrimary(string Node, string Reason) : FailoverDecision(Reason);

/// <summary>The primary looks dead to the monitor, but a failover is held back. <paramref name="Label"/> is the metric label.</summary>
internal sealed record HoldFailover(string Label, string Reason) : FailoverDecision(Reason);

/// <summary>
/// The recorded primary is dead and another node is already writable (promoted by hand, or a promotion that outlived
/// its wait): record it as after a failover, fence <paramref name="OldPrimary"/>, run on_failover with FW_EVENT=adopted.
/// </summary>
internal sealed record AdoptWritable(string Node, string OldPrimary, string Reason) : FailoverDecision(Reason);

internal sealed record Promote(string Target, string OldPrimary, string Reason) : FailoverDecision(Reason);

/// <summary>The best standby lacks WAL the primary had: promoting it would lose committed data.</summary>
internal sealed record RefuseLag(string Target, long ReceiveLagBytes, long LimitBytes, string Reason) : FailoverDecision(Reason);

/// <summary>More than one writable node: keep <paramref name="Keep"/>, fence the others.</summary>
internal sealed record ResolveSplitBrain(string Keep, IReadOnlyList<string> Fence, string Reason) : FailoverDecision(Reason);

/// <summary>A failover recorded as under way whose target is already writable: fence, hooks, record.</summary>
internal sealed record CompleteInterruptedFailover(FailoverInProgress Failover, string Reason) : FailoverDecision(Reason);

/// <summary>
/// A failover recorded as under way whose target never became writable: forget it, decide afresh. When pg_promote
/// had been sent, the promotion counts as failed.
/// </summary>
internal sealed record AbandonInterruptedFailover(FailoverInProgress Failover, string Reason) : FailoverDecision(Reason);
