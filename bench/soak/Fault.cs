namespace FailoverWatch.Soak;

/// <summary>The faults the soak injects into the primary (pg1), the monitor or the hook, one per round.</summary>
internal enum Fault
{
    /// <summary>kill -9 of every server process of the primary (a crash).</summary>
    Kill9,

    /// <summary>SIGSTOP of the primary for 1-20 s, then SIGCONT (a hung machine that comes back).</summary>
    Stop,

    /// <summary>The monitor's connection to the primary cut for 3-15 s while the standbys still stream from it.</summary>
    MonitorCut,

    /// <summary>kill -9 of the primary, then kill -9 of the monitor as it starts failing over, and a new monitor on the same state file.</summary>
    MonitorKill,

    /// <summary>kill -9 of the primary, failover, then the old primary started again as it was: writable.</summary>
    OldPrimaryBack,

    /// <summary>As <see cref="OldPrimaryBack"/>, with an <c>on_failover</c> hook that hangs and leaves a child holding its pipes.</summary>
    HangingHook,

    /// <summary>kill -9 of the primary and an operator promoting a standby by hand before the monitor does.</summary>
    ManualPromotion,
}

internal static class FaultNames
{
    public static string Name(this Fault fault) => fault switch
    {
        Fault.Kill9 => "kill -9 primary",
        Fault.Stop => "SIGSTOP primary 1-20s",
        Fault.MonitorCut => "monitor cut from primary",
        Fault.MonitorKill => "monitor killed mid-failover",
        Fault.OldPrimaryBack => "old primary back writable",
        Fault.HangingHook => "hanging hook + old primary back",
        Fault.ManualPromotion => "manual promotion",
        _ => fault.ToString(),
    };
}
