using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.Soak;

/// <summary>
/// <c>SOAK_SYNC</c>: unset or <c>0</c>, every round asynchronous; <c>1</c>, every round with
/// <c>replication.mode: sync</c>; <c>alternate</c>, odd rounds asynchronous and even ones synchronous (each round
/// starts its own cluster and monitor, so the mode is simply that round's configuration). In a synchronous round
/// a failover the monitor makes loses no acknowledged write: any lost one is a violation, unless the monitor had
/// degraded to asynchronous before the fault (then the asynchronous rules apply, as the README says).
/// </summary>
internal static class SyncRounds
{
    public const string Variable = "SOAK_SYNC";

    /// <summary>The monitor's warning when it drops the synchronous standby (ReplicationLog).</summary>
    private const string DegradedLine = "Synchronous replication degraded";

    /// <summary>Whether round N runs synchronously; null for a value that is none of the above.</summary>
    public static Func<int, bool>? Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "0" => _ => false,
        "1" => _ => true,
        "alternate" => number => number % 2 == 0,
        _ => null,
    };

    public static string Name(bool sync) => sync ? "sync" : "async";

    /// <summary>The <c>replication:</c> section of a synchronous round's configuration (one named standby, the default degrade_after).</summary>
    public static string Config(bool sync) => sync ? "replication:\n  mode: sync\n  number: 1\n" : "";

    /// <summary>Waits until the monitor has recorded a synchronous standby: only from then on are commits promised to survive.</summary>
    public static Task WaitForSyncStandbyAsync(SoakCluster cluster) => Wait.UntilAsync(
        async () => (await cluster.StatusAsync()).GetProperty("replication").GetProperty("sync_standbys").GetArrayLength() > 0,
        TimeSpan.FromSeconds(60),
        "the monitor recording a synchronous standby");

    public static bool Degraded(SoakCluster cluster) => cluster.MonitorOutput.Contains(DegradedLine, StringComparison.Ordinal);

    /// <summary>The synchronous promise for one round: no acknowledged write lost in a failover the monitor made.</summary>
    public static IEnumerable<string> Violations(bool sync, Fault fault, WriteAnalysis writes, bool degradedBeforeFault)
    {
        // A standby promoted by hand is the operator's choice, not necessarily the synchronous one.
        if (sync && fault != Fault.ManualPromotion && !degradedBeforeFault && writes.LostIds.Count > 0)
        {
            yield return $"{writes.LostIds.Count} acknowledged write(s) lost in a synchronous round ({writes.LostBytes} bytes of WAL; ids {string.Join(",", writes.LostIds.Take(10))})";
        }
    }
}
