using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;

namespace FailoverWatch.Soak;

/// <summary>
/// One three-monitor round: a fresh etcd, cluster and three monitors, the client writing, one coordination fault
/// with one database fault 0-2 s into it, then the checks (README "Soak", bench/soak/RESULTS.md). Every wait has
/// a deadline, and everything is torn down whatever happens.
/// </summary>
internal static class CoordinatedRound
{
    /// <summary>From the faults' end to one writable node named by every monitor: etcd's return, a new leader and a failover all fit.</summary>
    public static readonly TimeSpan SettleWithin = TimeSpan.FromSeconds(30);

    /// <summary>Every monitor's view written in etcd again, this long after the fault's end at most.</summary>
    public static readonly TimeSpan PublishWithin = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    public static async Task<CoordinatedResult> RunAsync(
        int number, CoordinationFault coordination, DatabaseFault database, int nodeCount, Random random, string evidenceRoot, CancellationToken cancellationToken)
    {
        // Drawn up front: the two faults then run side by side without sharing the generator.
        var plan = new Plan(random.Next(50, 200), random.Next(0, 2000), random.Next(2, 16), random.Next(1, 6), random.Next(3, 11), random.Next(4, 13), random.Next(5, 16), random.Next(3), random.Next(2));
        var clock = Stopwatch.StartNew();
        var violations = new List<string>();
        var notes = new List<string>();
        await using var cluster = await RoundSteps.StartClusterAsync(() => CoordinatedCluster.StartAsync(nodeCount, cancellationToken), cancellationToken);
        var leader = await AgreedLeaderAsync(cluster, cancellationToken);
        var watch = new MonitorWatch(cluster, clock);
        var observer = new ClusterObserver(cluster, clock);
        var client = new WriteClient(cluster, clock);
        TimeSpan faultStart;
        TimeSpan faultEnd;
        string? primary;
        double? settleSeconds;
        double? publishSeconds;
        var bound = (coordination.IsEtcdFault() ? 2 * CoordinatedCluster.LeaseTtl : CoordinatedCluster.LeaseTtl) + Grace;
        double leaderGap;
        try
        {
            await Wait.UntilAsync(() => client.Acks.Count >= plan.WarmUp, TimeSpan.FromSeconds(30), "the client's first writes");
            faultStart = clock.Elapsed;
            var faults = await Task.WhenAll(
                CoordinationFaultAsync(coordination, cluster, watch, leader, plan, cancellationToken),
                DatabaseFaultAsync(database, cluster, plan, cancellationToken));
            notes.AddRange(faults.Where(n => n.Length > 0));
            faultEnd = clock.Elapsed;
            var publishing = PublishAgainAsync(cluster, cancellationToken);
            (primary, var state) = await RoundSteps.SettleAsync(ct => SnapshotAsync(cluster, ct), SettleWithin, cancellationToken);
            settleSeconds = primary is null ? null : (clock.Elapsed - faultEnd).TotalSeconds;
            publishSeconds = await publishing;
            if (primary is null)
            {
                violations.Add($"no single writable node named by every monitor's /status within {SettleWithin.TotalSeconds:0}s after the faults: {state}");
            }
            else
            {
                await RoundSteps.ConfirmAsync(primary, client, clock, ct => SnapshotAsync(cluster, ct), notes, violations, cancellationToken);
            }

            // A leader is owed within the bound from the fault (a monitor's) or etcd's return (etcd's): watch at least that long.
            var leaderFrom = coordination.IsEtcdFault() ? faultEnd : faultStart;
            var watchUntil = leaderFrom + bound + TimeSpan.FromSeconds(1);
            while (clock.Elapsed < watchUntil)
            {
                await Task.Delay(100, cancellationToken);
            }

            int? faulted = coordination is CoordinationFault.LeaderKill or CoordinationFault.LeaderStop ? leader : null;
            leaderGap = watch.LongestLeaderGap(leaderFrom, clock.Elapsed, faulted, faultEnd);
        }
        finally
        {
            await client.DisposeAsync();
            await observer.DisposeAsync();
            await watch.DisposeAsync();
        }

        if (watch.HealthFailures is { Count: > 0 } healthFailures)
        {
            violations.Add($"/healthz did not answer 200 {healthFailures.Count} time(s): {string.Join("; ", healthFailures.Take(5))}");
        }

        if (leaderGap > bound.TotalSeconds)
        {
            violations.Add(string.Create(CultureInfo.InvariantCulture, $"no leader for {leaderGap:0.0}s, above {bound.TotalSeconds:0}s ({(coordination.IsEtcdFault() ? "2 x lease_ttl + 2 s from etcd's return" : "lease_ttl + 2 s from the fault")})"));
        }

        if (publishSeconds is null)
        {
            violations.Add($"not every monitor wrote its view in etcd again within {PublishWithin.TotalSeconds:0}s after the faults ended");
        }

        var acks = client.Acks;
        var writes = await WriteAnalysis.AnalyseAsync(cluster, primary, acks, observer.PromotedAt, faultStart);
        violations.AddRange(writes.Violations);
        var acting = await ActingEvidence.ReadAsync(cluster);
        violations.AddRange(acting.Violations(DateTimeOffset.UtcNow));
        violations.AddRange(PromotionViolations(coordination, database, writes, acting, primary));
        var twoLeaders = watch.TwoLeadersSeen();
        if (twoLeaders.Count > 0)
        {
            notes.Add($"two monitors said they led at {twoLeaders.Count} answer(s), from {twoLeaders[0]} to {twoLeaders[^1]} (faults {faultStart.TotalSeconds:0.0}-{faultEnd.TotalSeconds:0.0}s)");
        }

        var result = new CoordinatedResult(
            number, coordination, database, nodeCount, writes, violations, string.Join("; ", notes), settleSeconds, leaderGap, bound.TotalSeconds, publishSeconds, acting.Promotions, acting.Summary, acks.Count, clock.Elapsed);
        if (violations.Count > 0)
        {
            var folder = Path.Combine(evidenceRoot, string.Create(CultureInfo.InvariantCulture, $"round-{number:000}-{coordination}-{database}"));
            await cluster.SaveEvidenceAsync(folder);
            await File.WriteAllTextAsync(Path.Combine(folder, "round.txt"), Describe(result, leader, faultStart, faultEnd, observer.PromotedAt, watch.Samples), CancellationToken.None);
            result = result with { Evidence = folder };
        }

        return result;
    }

    /// <summary>Exactly one promotion per failover, on the node that won, none without; no failover and nothing lost when the primary never failed.</summary>
    private static IEnumerable<string> PromotionViolations(CoordinationFault coordination, DatabaseFault database, WriteAnalysis writes, ActingEvidence acting, string? primary)
    {
        var promoted = string.Join(", ", acting.PromoteRequests.Where(p => p.Value > 0).Select(p => $"{p.Key} x{p.Value}"));
        if (writes.FailedOver ? acting.Promotions != 1 : acting.Promotions != 0)
        {
            yield return $"{acting.Promotions} promote request(s) in the server logs ({promoted}) for {(writes.FailedOver ? "one failover" : "no failover")}";
        }
        else if (acting.Promotions == 1 && primary is not null && acting.PromoteRequests[primary] != 1)
        {
            yield return $"promoted {promoted}, but settled on {primary}";
        }

        // The primary never failed: only a majority cut from it (both followers) may move it, by a switchover that loses nothing.
        if (database == DatabaseFault.None && writes.FailedOver && coordination != CoordinationFault.FollowersCut)
        {
            yield return $"failed over although the primary never failed and a majority of monitors could reach it ({acting.Summary})";
        }

        if (database == DatabaseFault.None && writes.LostIds.Count > 0)
        {
            yield return $"{writes.LostIds.Count} acknowledged write(s) lost although the primary never failed";
        }
    }

    private sealed record Plan(int WarmUp, int DatabaseDelayMs, int PrimaryStopSeconds, int LeaderStopExtraSeconds, int EtcdLeaderStopSeconds, int NoQuorumSeconds, int CutSeconds, int KeptMember, int CutFollower);

    /// <summary>Waits until all three monitors name one leader, know all three, and name pg1 as primary, and etcd records it; the leader's index.</summary>
    private static async Task<int> AgreedLeaderAsync(CoordinatedCluster cluster, CancellationToken cancellationToken)
    {
        var leader = -1;
        await Wait.UntilAsync(
            async () =>
            {
                var statuses = await Task.WhenAll(Enumerable.Range(0, CoordinatedCluster.MonitorCount).Select(cluster.StatusAsync));
                var leaders = statuses.Select(s => s.GetProperty("leader").GetString()).Distinct().ToList();
                if (leaders is not [{ } name] || !statuses.All(s => s.GetProperty("primary").GetString() == "pg1" && s.GetProperty("monitors").GetArrayLength() == CoordinatedCluster.MonitorCount))
                {
                    return false;
                }

                leader = MonitorGroupConfig.IndexOf(name);
                return await cluster.RecordedPrimaryAsync(cancellationToken) == "pg1";
            },
            TimeSpan.FromSeconds(60),
            "three monitors agreeing on a leader, and pg1 recorded as primary in etcd");
        cancellationToken.ThrowIfCancellationRequested();
        return leader;
    }

    private static async Task<string> CoordinationFaultAsync(CoordinationFault fault, CoordinatedCluster cluster, MonitorWatch watch, int leader, Plan plan, CancellationToken cancellationToken)
    {
        var name = CoordinatedCluster.Name(leader);
        switch (fault)
        {
            case CoordinationFault.LeaderKill:
                watch.DownOnPurpose(leader, true);
                await cluster.KillMonitorAsync(leader);
                var down = CoordinatedCluster.LeaseTtl + TimeSpan.FromSeconds(plan.LeaderStopExtraSeconds);
                await Task.Delay(down, cancellationToken);
                try
                {
                    await cluster.StartMonitorAsync(leader);
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException)
                {
                    // Not running: the settle check asks every running monitor, and the note says why one is missing.
                    return $"leader {name} killed; did not start again after {down.TotalSeconds:0}s: {e.Message.Split('\n')[0]}";
                }

                watch.DownOnPurpose(leader, false);
                return $"leader {name} killed, started again {down.TotalSeconds:0}s later";
            case CoordinationFault.LeaderStop:
                var stopped = CoordinatedCluster.LeaseTtl + TimeSpan.FromSeconds(plan.LeaderStopExtraSeconds);
                watch.DownOnPurpose(leader, true);
                await cluster.SignalMonitorAsync(leader, "STOP");
                try
                {
                    await Task.Delay(stopped, cancellationToken);
                }
                finally
                {
                    await cluster.SignalMonitorAsync(leader, "CONT");
                }

                watch.DownOnPurpose(leader, false);
                return $"leader {name} stopped {stopped.TotalSeconds:0}s";
            case CoordinationFault.EtcdLeaderStop:
                var member = await cluster.Etcd.LeaderIndexAsync();
                var frozen = member < 0 ? 0 : member;
                await PauseMembersAsync(cluster, [frozen], plan.EtcdLeaderStopSeconds, cancellationToken);
                return $"etcd member {frozen}{(member < 0 ? " (no member named a leader)" : " (raft leader)")} stopped {plan.EtcdLeaderStopSeconds}s";
            case CoordinationFault.EtcdNoQuorum:
                int[] paused = [.. Enumerable.Range(0, 3).Where(i => i != plan.KeptMember)];
                await PauseMembersAsync(cluster, paused, plan.NoQuorumSeconds, cancellationToken);
                return $"etcd members {paused[0]},{paused[1]} stopped {plan.NoQuorumSeconds}s";
            default:
                var followers = Enumerable.Range(0, CoordinatedCluster.MonitorCount).Where(i => i != leader).ToArray();
                var cut = fault == CoordinationFault.FollowersCut ? followers : [followers[plan.CutFollower]];
                foreach (var monitor in cut)
                {
                    cluster.Cut(monitor, everything: fault == CoordinationFault.FollowerCut);
                }

                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(plan.CutSeconds), cancellationToken);
                }
                finally
                {
                    foreach (var monitor in cut)
                    {
                        cluster.Restore(monitor);
                    }
                }

                return $"{string.Join(",", cut.Select(CoordinatedCluster.Name))} cut {plan.CutSeconds}s (leader {name})";
        }
    }

    private static async Task PauseMembersAsync(CoordinatedCluster cluster, int[] members, int seconds, CancellationToken cancellationToken)
    {
        foreach (var member in members)
        {
            await cluster.Etcd.PauseMemberAsync(member);
        }

        try
        {
            await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken);
        }
        finally
        {
            foreach (var member in members)
            {
                await cluster.Etcd.ResumeMemberAsync(member);
            }
        }
    }

    private static async Task<string> DatabaseFaultAsync(DatabaseFault fault, CoordinatedCluster cluster, Plan plan, CancellationToken cancellationToken)
    {
        if (fault == DatabaseFault.None)
        {
            return "";
        }

        await Task.Delay(plan.DatabaseDelayMs, cancellationToken);
        if (fault == DatabaseFault.Kill9)
        {
            await cluster.Primary.SignalServerAsync("KILL", cancellationToken);
            return $"pg1 killed {plan.DatabaseDelayMs}ms in";
        }

        await cluster.Primary.SignalServerAsync("STOP", cancellationToken);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(plan.PrimaryStopSeconds), cancellationToken);
        }
        finally
        {
            await cluster.Primary.SignalServerAsync("CONT", CancellationToken.None);
        }

        return $"pg1 stopped {plan.PrimaryStopSeconds}s, {plan.DatabaseDelayMs}ms in";
    }

    /// <summary>Seconds from now until every monitor's view in etcd was written after the first read that etcd answered; null past <see cref="PublishWithin"/>.</summary>
    private static async Task<double?> PublishAgainAsync(CoordinatedCluster cluster, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyDictionary<string, long>? before = null;
        while (clock.Elapsed < PublishWithin)
        {
            try
            {
                var now = await cluster.ViewRevisionsAsync(cancellationToken);
                before ??= now;
                if (Enumerable.Range(0, CoordinatedCluster.MonitorCount).Select(CoordinatedCluster.Name).All(n => now.GetValueOrDefault(n) > before.GetValueOrDefault(n)))
                {
                    return clock.Elapsed.TotalSeconds;
                }
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // etcd still electing a leader after its return: asked again.
            }

            await Task.Delay(200, cancellationToken);
        }

        return null;
    }

    private static async Task<Snapshot> SnapshotAsync(CoordinatedCluster cluster, CancellationToken cancellationToken)
    {
        var (writable, nodes) = await RoundSteps.NodesAsync(cluster, cancellationToken);
        var named = new List<string?>();
        var described = new List<string>();
        foreach (var monitor in Enumerable.Range(0, CoordinatedCluster.MonitorCount).Where(cluster.IsRunning))
        {
            try
            {
                var primary = (await cluster.StatusAsync(monitor)).GetProperty("primary").GetString();
                named.Add(primary);
                described.Add($"{CoordinatedCluster.Name(monitor)}: primary={primary ?? "null"}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException)
            {
                named.Add(null);
                described.Add($"{CoordinatedCluster.Name(monitor)}: /status did not answer ({e.Message})");
            }
        }

        return new Snapshot(writable, named, $"{nodes}; {string.Join(", ", described)}");
    }

    private static string Describe(CoordinatedResult result, int leader, TimeSpan faultStart, TimeSpan faultEnd, IReadOnlyDictionary<string, TimeSpan> promotedAt, IReadOnlyList<LeaderSample> samples)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"round {result.Number}: {result.Coordination.Name()} + {result.Database.Name()}, {result.NodeCount} nodes, leader {CoordinatedCluster.Name(leader)} at the start; {result.Notes}");
        text.AppendLine(CultureInfo.InvariantCulture, $"faults {faultStart.TotalSeconds:0.000}s-{faultEnd.TotalSeconds:0.000}s (round clock); promotions seen: {string.Join(", ", promotedAt.Select(p => $"{p.Key} at {p.Value.TotalSeconds:0.000}s"))}; actions: {result.Actors}");
        foreach (var violation in result.Violations)
        {
            text.AppendLine("VIOLATION: " + violation);
        }

        // Changes of each monitor's answer only: who said it led, and when.
        foreach (var change in samples.GroupBy(s => s.Monitor).SelectMany(g => g.Where((s, i) => i == 0 || g.ElementAt(i - 1).Leads != s.Leads)).OrderBy(s => s.At))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{change.At.TotalSeconds:0.000}s {CoordinatedCluster.Name(change.Monitor)} {(change.Leads switch { true => "leads", false => "follows", null => "no answer" })}");
        }

        return text.ToString();
    }
}
