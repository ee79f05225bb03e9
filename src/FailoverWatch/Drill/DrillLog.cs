using Microsoft.Extensions.Logging;

namespace FailoverWatch.Drill;

/// <summary>The log lines of the host's drills (event ids 3300-3399).</summary>
internal static partial class DrillLog
{
    [LoggerMessage(3300, LogLevel.Information, "Drill: {Step}...")]
    public static partial void DrillStep(this ILogger logger, string step);

    [LoggerMessage(3301, LogLevel.Information, "Drill: {Step} done in {Seconds:0.000} s")]
    public static partial void DrillStepDone(this ILogger logger, string step, double seconds);

    [LoggerMessage(3302, LogLevel.Warning, "Drill: {Step} FAILED after {Seconds:0.000} s: {Error}")]
    public static partial void DrillStepFailed(this ILogger logger, string step, double seconds, string error);

    [LoggerMessage(3303, LogLevel.Information, "Drill not started ({Trigger}): {Reason}")]
    public static partial void DrillNotStarted(this ILogger logger, string trigger, string reason);

    [LoggerMessage(3304, LogLevel.Information, "Drill {Incident} {Result}: {Acknowledged} canary writes acknowledged, {Lost} lost; writes refused {Windows}")]
    public static partial void DrillFinished(this ILogger logger, string incident, string result, int acknowledged, string lost, string windows);
}
