using Microsoft.Extensions.Logging;

namespace FailoverWatch.Rejoin;

/// <summary>The log lines of the host's rejoins (event ids 2600-2699).</summary>
internal static partial class RejoinLog
{
    [LoggerMessage(2600, LogLevel.Information, "Rejoin of {Node} as a standby of {Primary} due now")]
    public static partial void RejoinQueued(this ILogger logger, string node, string primary);

    [LoggerMessage(2601, LogLevel.Warning, "{Node} has no rejoin_command: bring it back as a standby by hand (failoverwatch rejoin on its host)")]
    public static partial void NoRejoinCommand(this ILogger logger, string node);

    [LoggerMessage(2602, LogLevel.Information, "{Node} rejoined as a streaming standby of {Primary} (rewound: {Rewound}, commits saved from past the fork: {Commits}, in {Dir})")]
    public static partial void Rejoined(this ILogger logger, string node, string primary, bool rewound, int commits, string dir);

    [LoggerMessage(2603, LogLevel.Warning, "Rejoin of {Node} failed; tried again in {Retry}")]
    public static partial void RejoinFailed(this ILogger logger, string node, string retry);

    [LoggerMessage(2604, LogLevel.Error, "Rejoin of {Node} broke unexpectedly; tried again after rejoin_retry")]
    public static partial void RejoinBroke(this ILogger logger, string node, Exception exception);

    [LoggerMessage(2605, LogLevel.Warning, "The pending rejoins could not be written to the state; tried again on the next tick")]
    public static partial void RejoinsNotSaved(this ILogger logger, Exception exception);

    [LoggerMessage(2606, LogLevel.Information, "{Node} streamed from {Upstream}, not from the primary {Primary}: primary_conninfo now names {Primary}, reloaded without a restart")]
    public static partial void UpstreamRepointed(this ILogger logger, string node, string upstream, string primary);

    [LoggerMessage(2607, LogLevel.Warning, "{Node} follows the wrong upstream, and pointing it at {Primary} failed ({Error}): it needs superuser, or pg_read_all_settings, ALTER SYSTEM on primary_conninfo and EXECUTE on pg_reload_conf; tried again later")]
    public static partial void UpstreamRepointFailed(this ILogger logger, string node, string primary, string error);
}
