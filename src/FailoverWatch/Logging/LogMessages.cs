using Microsoft.Extensions.Logging;

namespace FailoverWatch.Logging;

/// <summary>Every log line of the monitor and failover, with its event id, in one place.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(1000, LogLevel.Information, "Monitoring cluster {Cluster}: {NodeCount} nodes every {Interval} (timeout {Timeout}, failure threshold {Threshold})")]
    public static partial void MonitorStarted(this ILogger logger, string cluster, int nodeCount, string interval, string timeout, int threshold);

    [LoggerMessage(1001, LogLevel.Warning, "Node {Node} is down: {Failure}")]
    public static partial void NodeDown(this ILogger logger, string node, string failure);

    [LoggerMessage(1002, LogLevel.Information, "Node {Node} is up as {Role}")]
    public static partial void NodeUp(this ILogger logger, string node, string role);

    [LoggerMessage(1003, LogLevel.Warning, "Node {Node} changed role from {OldRole} to {NewRole}")]
    public static partial void NodeRoleChanged(this ILogger logger, string node, string oldRole, string newRole);

    [LoggerMessage(1004, LogLevel.Warning, "Standby {Node} has received WAL {LagBytes} bytes behind the primary, above max_lag_on_failover {LimitBytes}: it could not be promoted automatically")]
    public static partial void NodeLagAboveLimit(this ILogger logger, string node, long lagBytes, long limitBytes);

    [LoggerMessage(1005, LogLevel.Information, "Standby {Node} is back within max_lag_on_failover ({LagBytes} bytes behind)")]
    public static partial void NodeLagWithinLimit(this ILogger logger, string node, long lagBytes);

    [LoggerMessage(1006, LogLevel.Warning, "Standby {Node} stopped streaming (WAL receiver: {Status})")]
    public static partial void StandbyStoppedStreaming(this ILogger logger, string node, string status);

    [LoggerMessage(1007, LogLevel.Information, "Standby {Node} is streaming")]
    public static partial void StandbyStreaming(this ILogger logger, string node);

    [LoggerMessage(1010, LogLevel.Error, "Probe round failed unexpectedly; the monitor goes on")]
    public static partial void RoundFailed(this ILogger logger, Exception exception);

    [LoggerMessage(1100, LogLevel.Information, "Failover decision: {Reason}")]
    public static partial void Decision(this ILogger logger, string reason);

    [LoggerMessage(1101, LogLevel.Warning, "Failover held back: {Reason}")]
    public static partial void FailoverHeld(this ILogger logger, string reason);

    [LoggerMessage(1102, LogLevel.Error, "Failover refused: {Reason}")]
    public static partial void FailoverRefused(this ILogger logger, string reason);

    [LoggerMessage(1103, LogLevel.Warning, "Failing over: {Reason}")]
    public static partial void FailoverStarting(this ILogger logger, string reason);

    [LoggerMessage(1104, LogLevel.Warning, "Promoted {Node}; it is writable after {Seconds:0.000}s")]
    public static partial void Promoted(this ILogger logger, string node, double seconds);

    [LoggerMessage(1105, LogLevel.Error, "Promotion of {Node} failed: {Error}")]
    public static partial void PromotionFailed(this ILogger logger, string node, string error);

    [LoggerMessage(1111, LogLevel.Error, "Not promoting {Node}: the failover cannot be recorded in the state file ({Cause}); a promotion a restarted monitor does not know of could be repeated. Retrying each round")]
    public static partial void FailoverNotRecorded(this ILogger logger, string node, string cause);

    [LoggerMessage(1112, LogLevel.Information, "Checkpoint on the new primary {Node} done: its control file names the new timeline, so pg_rewind can use it as a source")]
    public static partial void CheckpointDone(this ILogger logger, string node);

    [LoggerMessage(1113, LogLevel.Warning, "Checkpoint on the new primary {Node} failed ({Cause}); run CHECKPOINT on it before pg_rewind uses it as a source (grant pg_checkpoint to the monitor's role)")]
    public static partial void CheckpointFailed(this ILogger logger, string node, string cause);

    [LoggerMessage(1110, LogLevel.Error, "Finishing the failover to {Node} failed; it stays recorded as under way and is retried")]
    public static partial void FinishingFailoverFailed(this ILogger logger, string node, Exception exception);

    [LoggerMessage(1106, LogLevel.Error, "Split brain: {Reason}")]
    public static partial void SplitBrain(this ILogger logger, string reason);

    [LoggerMessage(1107, LogLevel.Information, "Recorded {Node} as primary: {Reason}")]
    public static partial void PrimaryAdopted(this ILogger logger, string node, string reason);

    [LoggerMessage(1108, LogLevel.Warning, "Interrupted failover: {Reason}")]
    public static partial void InterruptedFailover(this ILogger logger, string reason);

    [LoggerMessage(1109, LogLevel.Warning, "Automatic failover {State} by {Who}")]
    public static partial void PauseChanged(this ILogger logger, string state, string who);

    [LoggerMessage(1200, LogLevel.Information, "{Purpose} for {Node} succeeded: {Output}")]
    public static partial void CommandSucceeded(this ILogger logger, string purpose, string node, string output);

    [LoggerMessage(1201, LogLevel.Error, "{Purpose} for {Node} failed ({Result}): {Output}")]
    public static partial void CommandFailed(this ILogger logger, string purpose, string node, string result, string output);

    [LoggerMessage(1202, LogLevel.Warning, "No {Purpose} configured for {Node}")]
    public static partial void CommandMissing(this ILogger logger, string purpose, string node);

    [LoggerMessage(1300, LogLevel.Information, "Switchover: {Step}")]
    public static partial void SwitchoverStep(this ILogger logger, string step);

    // Failover hardening (issue 9): 1500-1599.
    [LoggerMessage(1500, LogLevel.Warning, "Configuration: {Warning}")]
    public static partial void ConfigWarning(this ILogger logger, string warning);

    [LoggerMessage(1501, LogLevel.Error, "Carrying out a failover decision failed ({Decision}); deciding again next round")]
    public static partial void DecisionFailed(this ILogger logger, string decision, Exception exception);

    [LoggerMessage(1502, LogLevel.Warning, "pg_promote sent to {Node}; waiting up to {Seconds:0}s (monitor.promotion_timeout) for it to finish recovery and accept writes: {Backlog}")]
    public static partial void PromotionRequested(this ILogger logger, string node, double seconds, string backlog);

    [LoggerMessage(1503, LogLevel.Error, "Fencing {Node} failed; it is fenced again each round for as long as it is writable")]
    public static partial void FenceFailed(this ILogger logger, string node);

    [LoggerMessage(1504, LogLevel.Warning, "The primary's WAL position could not be saved in the state file ({Cause}); a monitor restarted while the primary is down may not know it")]
    public static partial void PrimaryPositionNotSaved(this ILogger logger, string cause);

    // Failover readiness (the doctor's checks in the host): 1800-1809.
    [LoggerMessage(1800, LogLevel.Warning, "A failover to {Node} would not work now: {Problems}")]
    public static partial void FailoverNotReady(this ILogger logger, string node, string problems);

    [LoggerMessage(1801, LogLevel.Information, "A failover to {Node} would work now")]
    public static partial void FailoverReady(this ILogger logger, string node);

    [LoggerMessage(1802, LogLevel.Error, "Failover readiness check failed unexpectedly; it runs again next round")]
    public static partial void ReadinessCheckFailed(this ILogger logger, Exception exception);

    // Incidents: 1810-1819.
    [LoggerMessage(1810, LogLevel.Warning, "Incident {Id}: {Reason}")]
    public static partial void IncidentOpened(this ILogger logger, string id, string reason);

    [LoggerMessage(1811, LogLevel.Information, "Incident {Id} closed ({Result}): {Phases}")]
    public static partial void IncidentClosed(this ILogger logger, string id, string result, string phases);

    [LoggerMessage(1812, LogLevel.Warning, "Incident {Id} could not be saved in the state: {Error}")]
    public static partial void IncidentNotSaved(this ILogger logger, string id, string error);
}
