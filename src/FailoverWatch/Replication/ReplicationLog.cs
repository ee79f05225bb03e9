using Microsoft.Extensions.Logging;

namespace FailoverWatch.Replication;

/// <summary>Synchronous replication's log lines: 2700-2719.</summary>
internal static partial class ReplicationLog
{
    [LoggerMessage(2700, LogLevel.Information, "Synchronous replication on {Primary}: {Reason}")]
    public static partial void SyncStep(this ILogger logger, string primary, string reason);

    [LoggerMessage(2701, LogLevel.Warning, "Synchronous replication degraded on {Primary}: {Reason}")]
    public static partial void SyncDegraded(this ILogger logger, string primary, string reason);

    [LoggerMessage(2702, LogLevel.Warning, "Synchronous replication step on {Primary} not done ({Reason}): {Error}; nothing further changes until it is")]
    public static partial void SyncStepFailed(this ILogger logger, string primary, string reason, string error);

    [LoggerMessage(2703, LogLevel.Information, "synchronous_standby_names on {Node} set to '{Setting}' before promoting it")]
    public static partial void SyncResetOnTarget(this ILogger logger, string node, string setting);

    [LoggerMessage(2704, LogLevel.Warning, "synchronous_standby_names on {Node} could not be set before promoting it: {Error}")]
    public static partial void SyncResetOnTargetFailed(this ILogger logger, string node, string error);
}
