using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FailoverWatch.IntegrationTests.Fixtures;
using Npgsql;

namespace FailoverWatch.Soak;

/// <summary>
/// One round: a fresh cluster and monitor, the client writing, one fault, then the checks. Every wait has a
/// deadline, and the cluster, client and observer are torn down whatever happens.
/// </summary>
internal static class SoakRound
{
    /// <summary>The invariant: this long after the fault ends, exactly one node is writable and <c>/status</c> names it.</summary>
    public static readonly TimeSpan SettleWithin = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan FailoverWait = TimeSpan.FromSeconds(30);

    public static async Task<RoundResult> RunAsync(int number, Fault fault, int nodeCount, bool sync, Random random, string evidenceRoot, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var violations = new List<string>();
        var notes = new List<string>();
        await using var cluster = await RoundSteps.StartClusterAsync(() => SoakCluster.StartAsync(nodeCount, fault == Fault.HangingHook, sync, cancellationToken), cancellationToken);
        var observer = new ClusterObserver(cluster, clock);
        var client = new WriteClient(cluster, clock);
        TimeSpan faultStart;
        string? primary;
        double? settleSeconds;
        bool degradedBeforeFault;
        try
        {
            var warmUp = random.Next(50, 200);
            await Wait.UntilAsync(() => client.Acks.Count >= warmUp, TimeSpan.FromSeconds(30), "the client's first writes");
            degradedBeforeFault = SyncRounds.Degraded(cluster);
            faultStart = clock.Elapsed;
            notes.Add(await InjectAsync(fault, cluster, observer, client, random, cancellationToken));
            var faultEnd = clock.Elapsed;
            (primary, var state) = await RoundSteps.SettleAsync(ct => SnapshotAsync(cluster, ct), SettleWithin, cancellationToken);
            settleSeconds = primary is null ? null : (clock.Elapsed - faultEnd).TotalSeconds;
            if (primary is null)
            {
                violations.Add($"no single writable node named by /status within {SettleWithin.TotalSeconds:0}s after the fault: {state}");
            }
            else
            {
                await RoundSteps.ConfirmAsync(primary, client, clock, ct => SnapshotAsync(cluster, ct), notes, violations, cancellationToken);
            }
        }
        finally
        {
            await client.DisposeAsync();
            await observer.DisposeAsync();
        }

        var healthFailures = observer.HealthFailures;
        if (healthFailures.Count > 0)
        {
            violations.Add($"/healthz did not answer {healthFailures.Count} time(s): {string.Join("; ", healthFailures.Take(5))}");
        }

        var acks = client.Acks;
        var writes = await WriteAnalysis.AnalyseAsync(cluster, primary, acks, observer.PromotedAt, faultStart);
        violations.AddRange(writes.Violations);
        if (fault == Fault.MonitorCut && writes.FailedOver)
        {
            // The README's promise: never fail over when only the monitor is cut off and the standbys still hear the primary.
            violations.Add($"failed over although only the monitor was cut off ({string.Join(", ", observer.PromotedAt.Keys)} promoted)");
        }

        violations.AddRange(SyncRounds.Violations(sync, fault, writes, degradedBeforeFault));
        var rejoin = await HostRejoin.AwaitAsync(cluster, primary, writes, clock.Elapsed - faultStart, cancellationToken);
        violations.AddRange(rejoin.Violations);
        var result = new RoundResult(number, fault, nodeCount, writes, violations, string.Join("; ", notes.Where(n => n.Length > 0)), settleSeconds, acks.Count, client.Errors, clock.Elapsed)
        {
            Sync = sync,
            Rejoin = rejoin,
            DegradedBeforeFault = sync && degradedBeforeFault,
            LoadAverage = LoadAverage(),
        };
        if (violations.Count > 0)
        {
            var folder = Path.Combine(evidenceRoot, string.Create(CultureInfo.InvariantCulture, $"round-{number:000}-{fault}"));
            await cluster.SaveEvidenceAsync(folder);
            await File.WriteAllTextAsync(Path.Combine(folder, "round.txt"), Describe(result, acks, observer.PromotedAt), CancellationToken.None);
            result = result with { Evidence = folder };
        }

        return result;
    }

    private static double LoadAverage() => double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    private static async Task<string> InjectAsync(Fault fault, SoakCluster cluster, ClusterObserver observer, WriteClient client, Random random, CancellationToken cancellationToken)
    {
        var primary = cluster.Primary;
        switch (fault)
        {
            case Fault.Kill9:
                await primary.SignalServerAsync("KILL", cancellationToken);
                return "";
            case Fault.Stop:
                var stopped = random.Next(1, 21);
                await primary.SignalServerAsync("STOP", cancellationToken);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(stopped), cancellationToken);
                }
                finally
                {
                    await primary.SignalServerAsync("CONT", CancellationToken.None);
                }

                return $"stopped {stopped}s";
            case Fault.MonitorCut:
                var cut = random.Next(3, 16);
                var relay = cluster.RelayOf(primary);
                relay.Cut();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(cut), cancellationToken);
                }
                finally
                {
                    relay.Restore();
                }

                return $"cut {cut}s";
            case Fault.MonitorKill:
                await primary.SignalServerAsync("KILL", cancellationToken);
                var note = "";
                try
                {
                    await Wait.UntilAsync(() => cluster.MonitorOutput.Contains("Failing over", StringComparison.Ordinal), FailoverWait, "the monitor failing over");
                }
                catch (TimeoutException e)
                {
                    note = e.Message + "; ";
                }

                var killAfter = random.Next(0, 400);
                var downFor = random.Next(0, 2000);
                await Task.Delay(killAfter, cancellationToken);
                observer.MonitorDownOnPurpose = true;
                await cluster.KillMonitorAsync();
                await Task.Delay(downFor, cancellationToken);
                try
                {
                    await cluster.StartMonitorAsync();
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException)
                {
                    // No monitor, no /status: the settle check reports it as the violation it is.
                    return note + $"the monitor killed {killAfter}ms after 'Failing over' did not start again: {e.Message}";
                }

                observer.MonitorDownOnPurpose = false;
                return note + $"monitor killed {killAfter}ms after 'Failing over', restarted {downFor}ms later";
            case Fault.OldPrimaryBack or Fault.HangingHook:
                await primary.SignalServerAsync("KILL", cancellationToken);
                try
                {
                    // The old primary returns once the failover has reached its hook (a hanging hook then blocks the
                    // monitor, if anything does) and the application has moved on, as it would behind a repointed pooler.
                    await Wait.UntilAsync(() => cluster.HookStarted, FailoverWait, "the on_failover hook");
                    await Wait.UntilAsync(() => client.Acks.Any(a => a.Node != primary.Name), FailoverWait, "a client write on the new primary");
                }
                catch (TimeoutException e)
                {
                    return e.Message + "; old primary left down";
                }

                try
                {
                    // Under the rejoin's own lock, as a start through it would be: started in the middle of the host's
                    // pg_rewind, the old primary would be a broken directory, not a fault the monitor must handle.
                    using var rejoinLock = HostRejoin.TryLock(primary);
                    if (rejoinLock is null || primary.PostmasterPid is not null)
                    {
                        return "the host was rejoining the old primary already; not restarted writable";
                    }

                    await primary.StartAsync(cancellationToken);
                    return "old primary restarted after the failover";
                }
                catch (InvalidOperationException)
                {
                    return "old primary's restart did not finish (fenced while starting?)";
                }

            case Fault.ManualPromotion:
                await primary.SignalServerAsync("KILL", cancellationToken);
                // Within the monitor's 3 failed probes, so the operator usually beats it.
                var promoteAfter = random.Next(0, 1500);
                await Task.Delay(promoteAfter, cancellationToken);
                try
                {
                    await cluster.Standby.ExecuteAsync("SELECT pg_promote(true, 60)", cancellationToken);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectNotInPrerequisiteState)
                {
                    return $"pg2 was no longer a standby {promoteAfter}ms after the kill (the monitor promoted first)";
                }

                return $"pg2 promoted by hand {promoteAfter}ms after the kill";
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }

    private static async Task<Snapshot> SnapshotAsync(SoakCluster cluster, CancellationToken cancellationToken)
    {
        var (writable, nodes) = await RoundSteps.NodesAsync(cluster, cancellationToken);
        string? statusPrimary;
        string status;
        try
        {
            statusPrimary = cluster.Monitor is null ? null : await cluster.StatusPrimaryAsync();
            status = cluster.Monitor is null ? "no monitor running" : $"/status primary={statusPrimary ?? "null"}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException)
        {
            statusPrimary = null;
            status = $"/status did not answer ({e.Message})";
        }

        return new Snapshot(writable, [statusPrimary], $"{nodes}; {status}");
    }

    private static string Describe(RoundResult result, IReadOnlyList<Ack> acks, IReadOnlyDictionary<string, TimeSpan> promotedAt)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"round {result.Number}: {result.Fault.Name()}, {result.NodeCount} nodes; {result.Notes}");
        text.AppendLine(CultureInfo.InvariantCulture, $"fault at {result.Writes.FaultAt.TotalSeconds:0.000}s (round clock); promotions seen: {string.Join(", ", promotedAt.Select(p => $"{p.Key} at {p.Value.TotalSeconds:0.000}s"))}");
        foreach (var violation in result.Violations)
        {
            text.AppendLine("VIOLATION: " + violation);
        }

        // Runs of consecutive acknowledged writes on one node: where the client wrote, and when.
        foreach (var run in acks.Aggregate(new List<List<Ack>>(), (runs, ack) =>
                 {
                     if (runs.Count == 0 || runs[^1][^1].Node != ack.Node)
                     {
                         runs.Add([]);
                     }

                     runs[^1].Add(ack);
                     return runs;
                 }))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"acks on {run[0].Node}: ids {run[0].Id}-{run[^1].Id} at {run[0].At.TotalSeconds:0.000}-{run[^1].At.TotalSeconds:0.000}s, LSN {run[0].Lsn}-{run[^1].Lsn}");
        }

        foreach (var lost in result.Writes.LostIds.Take(50))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"lost id {lost}");
        }

        return text.ToString();
    }
}
