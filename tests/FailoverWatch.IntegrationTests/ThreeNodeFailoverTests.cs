using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;
using static FailoverWatch.IntegrationTests.FailoverTests;

namespace FailoverWatch.IntegrationTests;

/// <summary>
/// Three real nodes, one cluster for two claims in order: a promotion held by a stopped startup process blocks any
/// other promotion until its target is fenced; then, after two failovers (A→B→C), A back writable on its old timeline
/// with C down is fenced, never adopted or routed to.
/// </summary>
public sealed partial class ThreeNodeFailoverTests
{
    [Fact]
    public async Task a_promotion_that_may_still_complete_holds_any_other_and_a_node_replaced_two_failovers_ago_is_fenced_never_adopted()
    {
        // pg3 is a second standby of pg1 (the rejoin_command argument makes one; empty, it never runs).
        await using var cluster = await TestCluster.StartAsync("probe_interval: 500ms\nprobe_timeout: 1s\nfailure_threshold: 3\npromotion_timeout: 2s", pg3RejoinCommand: _ => "");
        var servers = new Dictionary<string, LocalPostgresServer> { ["pg1"] = cluster.Pair.Primary, ["pg2"] = cluster.Pair.Standby, ["pg3"] = cluster.Cascaded! };
        await GateStandbyFencesAsync(cluster);
        var startups = new Dictionary<string, StartupProcess> { ["pg2"] = await StartupProcess.OfAsync(servers["pg2"]), ["pg3"] = await StartupProcess.OfAsync(servers["pg3"]) };
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");
        await Wait.UntilAsync(
            async () => await servers["pg1"].QueryScalarAsync<long>("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'", CancellationToken.None) == 2,
            TimeSpan.FromSeconds(30),
            "pg2 and pg3 stream from pg1");

        // Both startup processes stopped: whichever the monitor picks takes pg_promote and cannot act on it.
        string held, next;
        try
        {
            await startups["pg2"].StopAsync();
            await startups["pg3"].StopAsync();
            await servers["pg1"].SignalAsync("KILL", CancellationToken.None);
            await Wait.UntilAsync(() => PromoteSent().IsMatch(monitor.Output), TimeSpan.FromSeconds(20), "pg_promote sent");
            held = PromoteSent().Match(monitor.Output).Groups[1].Value;
            next = held == "pg2" ? "pg3" : "pg2";
            await startups[next].ResumeAsync();

            // Given up after promotion_timeout (2 s), the promotion may still complete: held, and its target fenced each
            // round (failing), well past the 5 s retry wait after a failed promotion, which alone would promote the next.
            await monitor.WaitForMetricAtLeastAsync("failoverwatch_failovers_held_total{cluster=\"test\",reason=\"promotion_pending\"}", 14, TimeSpan.FromSeconds(30), "held: promotion pending");
            Assert.True(await servers[next].QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None), $"{next} promoted while {held}'s promotion may still complete");
            Assert.Equal(0, await monitor.MetricAsync("failoverwatch_failovers_total{cluster=\"test\",result=\"promoted\"}"));
            Assert.True(await monitor.MetricAsync("failoverwatch_command_failures_total{cluster=\"test\",command=\"fence\"}") >= 3, "the pending target's fence is tried each round");
            Assert.Equal(1, await monitor.MetricAsync("failoverwatch_failovers_total{cluster=\"test\",result=\"failed\"}"));

            // Its fence works: stopped, it can never complete; the next standby is promoted (A→B).
            await File.WriteAllTextAsync(cluster.File("fence-works"), "");
            await WaitForWritableAsync(servers[next], TimeSpan.FromSeconds(30));
            Assert.Contains($"failover old=pg1 new={held}", cluster.Marker($"fenced-{held}"), StringComparison.Ordinal);
            await Wait.UntilAsync(() => servers[held].PostmasterPid is null, TimeSpan.FromSeconds(30), $"{held} stopped by its fence");
        }
        finally
        {
            await startups["pg2"].ResumeAsync();
            await startups["pg3"].ResumeAsync();
        }

        await WaitForPrimaryAsync(monitor, next);
        await FollowAsync(servers[held], servers[next]);

        // B→C: the node held before, now a standby of B, is promoted; then C goes down too.
        await servers[next].SignalAsync("KILL", CancellationToken.None);
        await WaitForWritableAsync(servers[held], TimeSpan.FromSeconds(30));
        await WaitForPrimaryAsync(monitor, held);
        await Wait.UntilAsync(() => Timelines(cluster).Count == 3, TimeSpan.FromSeconds(30), "three primaries' timelines recorded");
        await servers[held].SignalAsync("KILL", CancellationToken.None);

        // A comes back writable on timeline 1, C down: never named, never adopted, fenced.
        File.Delete(cluster.File("fenced-pg1"));
        await Wait.UntilAsync(() => servers["pg1"].PostmasterPid is null, TimeSpan.FromSeconds(20), "pg1's postmaster gone");
        await servers["pg1"].StartAsync(CancellationToken.None);
        Assert.False(await servers["pg1"].QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
        await Wait.UntilAsync(
            async () => (await monitor.GetAsync("primary/pg1")).StatusCode == HttpStatusCode.OK || (await monitor.StatusAsync()).GetProperty("primary").GetString() == "pg1"
                ? throw new InvalidOperationException($"pg1 named primary:\n{monitor.Output}")
                : servers["pg1"].PostmasterPid is null,
            TimeSpan.FromSeconds(30),
            "pg1 fenced (stopped) and never named primary meanwhile");
        Assert.Contains($"split_brain old=pg1 new={held}", cluster.Marker("fenced-pg1"), StringComparison.Ordinal);
        var state = JsonDocument.Parse(await File.ReadAllTextAsync(cluster.StatePath)).RootElement;
        Assert.Equal(held, state.GetProperty("primary").GetString());
        Assert.DoesNotContain(state.GetProperty("history").EnumerateArray(), h => h.GetProperty("to").GetString() == "pg1");
        Assert.Equal(["pg1", next, held], Timelines(cluster).Select(t => t.GetProperty("node").GetString()));
    }

    /// <summary>pg2's and pg3's fences fail until the file <c>fence-works</c> exists; then they record and stop, as pg1's does.</summary>
    private static async Task GateStandbyFencesAsync(TestCluster cluster)
    {
        var gate = $"test -f {cluster.File("fence-works")} && ";
        var pg2Fence = $"fence_command: \"{cluster.RecordTo("fenced-pg2")}; ";
        var pg3 = "user: postgres, rejoin_command: \"\" }";
        var config = await File.ReadAllTextAsync(cluster.ConfigPath);
        Assert.Contains(pg2Fence, config, StringComparison.Ordinal);
        Assert.Contains(pg3, config, StringComparison.Ordinal);
        config = config
            .Replace(pg2Fence, $"fence_command: \"{gate}{cluster.RecordTo("fenced-pg2")} && ", StringComparison.Ordinal)
            .Replace(pg3, $"user: postgres, rejoin_command: \"\", fence_command: \"{gate}{cluster.RecordTo("fenced-pg3")} && {TestCluster.StopCommand(cluster.Cascaded!)}\" }}", StringComparison.Ordinal);
        await File.WriteAllTextAsync(cluster.ConfigPath, config);
    }

    /// <summary>
    /// Starts <paramref name="stopped"/> again as a standby of <paramref name="primary"/>: its promotion request (never
    /// acted on) withdrawn, its upstream repointed; it follows onto the new timeline.
    /// </summary>
    private static async Task FollowAsync(LocalPostgresServer stopped, LocalPostgresServer primary)
    {
        File.Delete(Path.Combine(stopped.DataDirectory, "promote.signal"));
        await stopped.StartAsync(CancellationToken.None);
        await stopped.ExecuteAsync($"ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port={primary.Port} user=postgres application_name={stopped.Name}'", CancellationToken.None);
        await stopped.ExecuteAsync("SELECT pg_reload_conf()", CancellationToken.None);
        await Wait.UntilAsync(
            async () => await primary.QueryScalarAsync<long>($"SELECT count(*) FROM pg_stat_replication WHERE application_name = '{stopped.Name}' AND state = 'streaming'", CancellationToken.None) == 1,
            TimeSpan.FromSeconds(30),
            $"{stopped.Name} streams from {primary.Name}");
    }

    private static List<JsonElement> Timelines(TestCluster cluster) =>
        [.. JsonDocument.Parse(File.ReadAllText(cluster.StatePath)).RootElement.GetProperty("timelines").EnumerateArray()];

    [GeneratedRegex("pg_promote sent to (pg[23]);")]
    private static partial Regex PromoteSent();
}
