using System.CommandLine;

namespace FailoverWatch.Cli;

/// <summary>
/// <c>failoverwatch drill</c>: asks the running host to switch over to the best standby and back (<c>POST /drill</c>),
/// proving with a canary that no acknowledged write was lost. The host records it as an incident and answers with
/// the report, printed as one JSON line; its progress is in the host's log.
/// </summary>
internal static class DrillCommand
{
    // No client time-out: the host bounds each step (a rejoin by monitor.rejoin_timeout), and a drill that started
    // goes on to put the roles back even when this client is gone.
    public static Command Create() => ControlCommand.Create(
        "drill", "Have the running host switch over to the best standby and back, with canary writes throughout", _ => "drill", Timeout.InfiniteTimeSpan);
}
