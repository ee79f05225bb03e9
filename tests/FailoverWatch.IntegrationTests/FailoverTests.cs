using System.Diagnostics;
using System.Text.Json;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Monitoring;
using FailoverWatch.State;

namespace FailoverWatch.IntegrationTests;

/// <summary>Failover end to end: the real executable watching a real pair, each fault caused for real.</summary>
public sealed class FailoverTests
{
    internal const string Fast = "probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 3";

    [Fact]
    public async Task promotes_standby_when_primary_killed()
    {
        await using var cluster = await TestCluster.StartAsync(Fast);
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");
        await cluster.Pair.Primary.ExecuteAsync("CREATE TABLE kept (id int); INSERT INTO kept SELECT generate_series(1, 100)", CancellationToken.None);
        await cluster.Pair.WaitForStreamingAsync();

        var clock = Stopwatch.StartNew();
        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await WaitForWritableAsync(cluster.Pair.Standby, TimeSpan.FromSeconds(3 * 1 + 2 + 3));
        var elapsed = clock.Elapsed;

        Assert.Equal(100L, await cluster.Pair.Standby.QueryScalarAsync<long>("SELECT count(*) FROM kept", CancellationToken.None));
        await Wait.UntilAsync(async () => (await monitor.StatusAsync()).GetProperty("primary").GetString() == "pg2", TimeSpan.FromSeconds(10), "status says pg2 is primary");
        // The fence starts beside the promotion and on_failover after it, neither waiting for the other: wait for both.
        await Wait.UntilAsync(() => cluster.Marker("hook-failover") is not null && cluster.Marker("fenced-pg1") is not null, TimeSpan.FromSeconds(20), "on_failover hook and fence ran");
        Assert.Contains("failover old=pg1 new=pg2", cluster.Marker("hook-failover"), StringComparison.Ordinal);
        Assert.Contains("failover old=pg1 new=pg2", cluster.Marker("fenced-pg1"), StringComparison.Ordinal);
        Assert.Equal(1, await monitor.MetricAsync("failoverwatch_failovers_total{cluster=\"test\",result=\"promoted\"}"));
        Assert.True(await monitor.MetricAsync("failoverwatch_last_failover_timestamp_seconds{cluster=\"test\"}") > 0);
        Assert.Contains("\"primary\": \"pg2\"", await File.ReadAllTextAsync(cluster.StatePath), StringComparison.Ordinal);
        Assert.True(elapsed < TimeSpan.FromSeconds(8), $"failover took {elapsed}");
    }

    [Fact]
    public async Task cascaded_standby_streaming_from_the_standby_does_not_hold_the_failover_and_follows_the_new_primary()
    {
        // pg1 -> pg2 -> pg3. Once pg1 dies, pg3 still streams, but from pg2: no evidence that pg1 lives.
        await using var cluster = await TestCluster.StartAsync(Fast, cascadedStandby: true);
        var pg3 = cluster.Cascaded!;
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");
        await cluster.Pair.Primary.ExecuteAsync("CREATE TABLE kept AS SELECT generate_series(1, 100) AS id", CancellationToken.None);
        await Wait.UntilAsync(
            async () => await pg3.QueryScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE tablename = 'kept'", CancellationToken.None) == 1,
            TimeSpan.FromSeconds(30),
            "pg3 has the table through pg2");

        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await WaitForWritableAsync(cluster.Pair.Standby, TimeSpan.FromSeconds(3 * 1 + 2 + 3));

        // pg3 stays a standby and follows pg2 onto its new timeline.
        await cluster.Pair.Standby.ExecuteAsync("INSERT INTO kept VALUES (101)", CancellationToken.None);
        await Wait.UntilAsync(
            async () => await pg3.QueryScalarAsync<long>("SELECT count(*) FROM kept", CancellationToken.None) == 101,
            TimeSpan.FromSeconds(30),
            "pg3 replays the new primary's writes");
        Assert.True(await pg3.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));

        // Counted once the failover is recorded, which can come after pg3 has replayed the new primary's first write.
        await Wait.UntilAsync(
            async () => await monitor.MetricAsync("failoverwatch_failovers_total{cluster=\"test\",result=\"promoted\"}") == 1,
            TimeSpan.FromSeconds(30),
            "the failover counted as promoted");
    }

    [Fact]
    public async Task never_promotes_before_the_failover_is_recorded_and_does_once_the_state_file_is_writable_again()
    {
        // A promotion the state file does not know of could be repeated by a restarted monitor: none happens unrecorded.
        using var stateDirectory = new TempDirectory();
        await using var mount = await TmpfsMount.MountAsync(stateDirectory.File("state"), "1m");
        await using var cluster = await TestCluster.StartAsync(Fast, statePath: Path.Combine(mount.Path, "state.json"));
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");
        await Wait.UntilAsync(() => File.Exists(cluster.StatePath), TimeSpan.FromSeconds(10), "state file written");

        await mount.MakeReadOnlyAsync();
        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await monitor.WaitForMetricAtLeastAsync("failoverwatch_failovers_held_total{cluster=\"test\",reason=\"state_unwritable\"}", 1, TimeSpan.FromSeconds(15), "failover held: state file unwritable");
        await monitor.WaitForOutputAsync("Not promoting pg2: the failover cannot be recorded in the state file");
        await monitor.WaitForOutputAsync("Read-only file system");
        await Wait.HoldsAsync(
            async () => await cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None),
            TimeSpan.FromSeconds(5),
            "pg2 stays a standby while the failover cannot be recorded");

        await mount.MakeWritableAsync();
        await WaitForWritableAsync(cluster.Pair.Standby, TimeSpan.FromSeconds(30));
        await Wait.UntilAsync(
            () => JsonDocument.Parse(File.ReadAllText(cluster.StatePath)).RootElement.GetProperty("primary").GetString() == "pg2",
            TimeSpan.FromSeconds(15),
            "pg2 recorded as primary");
    }

    [Fact]
    public async Task a_promotion_the_server_refuses_is_counted_as_failed_and_retried_later_not_every_round()
    {
        // The monitor's role has pg_monitor but no EXECUTE on pg_promote: the standby refuses the promotion.
        await using var cluster = await TestCluster.StartAsync(Fast, monitorUser: "fw_monitor");
        await cluster.Pair.Primary.ExecuteAsync("CREATE ROLE fw_monitor LOGIN; GRANT pg_monitor TO fw_monitor", CancellationToken.None);
        await Wait.UntilAsync(
            async () => await cluster.Pair.Standby.QueryScalarAsync<long>("SELECT count(*) FROM pg_roles WHERE rolname = 'fw_monitor'", CancellationToken.None) == 1,
            TimeSpan.FromSeconds(30),
            "the role replicated to the standby");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");

        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await monitor.WaitForMetricAtLeastAsync("failoverwatch_failovers_total{cluster=\"test\",result=\"failed\"}", 1, TimeSpan.FromSeconds(15), "the refused promotion counted");
        await monitor.WaitForOutputAsync("Promotion of pg2 failed");
        await monitor.WaitForOutputAsync("permission denied");
        Assert.True(await cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));

        // Held for a while (retry_wait), not hammered every round.
        await monitor.WaitForMetricAtLeastAsync("failoverwatch_failovers_held_total{cluster=\"test\",reason=\"retry_wait\"}", 3, TimeSpan.FromSeconds(15), "rounds held after the failed promotion");
        Assert.Equal(1, await monitor.MetricAsync("failoverwatch_failovers_total{cluster=\"test\",result=\"failed\"}"));
        var state = JsonDocument.Parse(await File.ReadAllTextAsync(cluster.StatePath)).RootElement;
        Assert.False(state.TryGetProperty("in_progress", out var inProgress) && inProgress.ValueKind == JsonValueKind.Object);
        Assert.Contains(state.GetProperty("history").EnumerateArray(), h => h.GetProperty("result").GetString() == "failed");
    }

    [Fact]
    public async Task promotes_standby_when_primary_hangs()
    {
        // A SIGSTOPped primary keeps the standby's receiver "streaming" until wal_receiver_timeout (5 s here).
        await using var cluster = await TestCluster.StartAsync(Fast, walReceiverTimeout: "5s");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");

        var clock = Stopwatch.StartNew();
        await cluster.Pair.Primary.SignalServerAsync("STOP", CancellationToken.None);
        await WaitForWritableAsync(cluster.Pair.Standby, TimeSpan.FromSeconds(5 + 3 * 1 + 2 + 5));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"failover took {clock.Elapsed}");
        await Wait.UntilAsync(() => cluster.Marker("fenced-pg1") is not null, TimeSpan.FromSeconds(10), "hung primary fenced");
    }

    [Fact]
    public async Task does_not_promote_when_only_the_monitor_is_cut_off_from_the_primary()
    {
        await using var cluster = await TestCluster.StartAsync(Fast, relayMonitor: true);
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");

        cluster.MonitorRelay!.Cut();
        await Wait.UntilAsync(async () => await monitor.MetricAsync("failoverwatch_node_up{cluster=\"test\",node=\"pg1\"}") == 0, TimeSpan.FromSeconds(10), "pg1 down for the monitor");
        await Wait.HoldsAsync(
            async () => await cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None),
            TimeSpan.FromSeconds(30),
            "standby stays a standby while only the monitor is cut off");

        await monitor.WaitForOutputAsync("still streams WAL from it");
        Assert.True(await monitor.MetricAsync("failoverwatch_failovers_held_total{cluster=\"test\",reason=\"standby_streaming\"}") > 0);
        Assert.Equal(0, await monitor.MetricAsync("failoverwatch_failovers_total{cluster=\"test\",result=\"promoted\"}"));

        cluster.MonitorRelay.Restore();
        await Wait.UntilAsync(async () => await monitor.MetricAsync("failoverwatch_node_up{cluster=\"test\",node=\"pg1\"}") == 1, TimeSpan.FromSeconds(10), "pg1 back");
        Assert.False(await cluster.Pair.Primary.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
    }

    [Fact]
    public async Task refuses_to_promote_a_standby_missing_more_wal_than_the_limit()
    {
        await using var cluster = await TestCluster.StartAsync(Fast + "\nmax_lag_on_failover: 1MB", relayReplication: true);
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");

        cluster.Pair.ReplicationRelay!.Cut();
        await cluster.Pair.Primary.ExecuteAsync("CREATE TABLE lost AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 10000) g", CancellationToken.None);
        await Wait.UntilAsync(
            async () => await monitor.MetricAsync("failoverwatch_replication_receive_lag_bytes{cluster=\"test\",node=\"pg2\"}") > 1 << 20,
            TimeSpan.FromSeconds(15),
            "monitor sees the standby missing over 1 MB");

        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await monitor.WaitForMetricAtLeastAsync("failoverwatch_failovers_total{cluster=\"test\",result=\"refused_lag\"}", 1, TimeSpan.FromSeconds(30), "refused_lag counted");
        Assert.True(await cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
        await monitor.WaitForOutputAsync("would be lost");
        Assert.Equal(0, await monitor.MetricAsync("failoverwatch_failovers_total{cluster=\"test\",result=\"promoted\"}"));
    }

    [Fact]
    public async Task monitor_restarted_while_the_primary_is_down_still_refuses_a_lagging_standby()
    {
        await using var cluster = await TestCluster.StartAsync(Fast + "\nmax_lag_on_failover: 1MB", relayReplication: true);
        var first = await MonitorProcess.StartAsync(cluster);
        try
        {
            await WaitForPrimaryAsync(first, "pg1");
            cluster.Pair.ReplicationRelay!.Cut();
            await cluster.Pair.Primary.ExecuteAsync("CREATE TABLE lost AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 10000) g", CancellationToken.None);
            var written = Lsn.Parse(await cluster.Pair.Primary.QueryScalarAsync<string>("SELECT pg_current_wal_lsn()::text", CancellationToken.None));
            await Wait.UntilAsync(
                () => FailoverStateStore.Load(cluster.StatePath).PrimaryLsn is { } saved && written.BytesAhead(Lsn.Parse(saved)) < 512 * 1024,
                TimeSpan.FromSeconds(15),
                "the primary's position saved in the state file");
            await first.KillAsync();
        }
        finally
        {
            await first.DisposeAsync();
        }

        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await using var second = await MonitorProcess.StartAsync(cluster);
        await second.WaitForMetricAtLeastAsync("failoverwatch_failovers_total{cluster=\"test\",result=\"refused_lag\"}", 1, TimeSpan.FromSeconds(30), "refused_lag counted by the restarted monitor");
        Assert.True(await cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
        await second.WaitForOutputAsync("would be lost");
    }

    [Fact]
    public async Task promotes_standby_with_paused_replay_and_keeps_every_committed_row()
    {
        await using var cluster = await TestCluster.StartAsync(Fast + "\nmax_lag_on_failover: 1MB");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");

        await cluster.Pair.Standby.ExecuteAsync("SELECT pg_wal_replay_pause()", CancellationToken.None);
        await cluster.Pair.Primary.ExecuteAsync("CREATE TABLE kept AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 10000) g", CancellationToken.None);
        await Wait.UntilAsync(
            async () => await monitor.MetricAsync("failoverwatch_replication_lag_bytes{cluster=\"test\",node=\"pg2\"}") > 1 << 20
                && await monitor.MetricAsync("failoverwatch_replication_receive_lag_bytes{cluster=\"test\",node=\"pg2\"}") == 0,
            TimeSpan.FromSeconds(15),
            "all WAL received, replay behind");

        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await WaitForWritableAsync(cluster.Pair.Standby, TimeSpan.FromSeconds(20));
        Assert.Equal(10000L, await cluster.Pair.Standby.QueryScalarAsync<long>("SELECT count(*) FROM kept", CancellationToken.None));
    }

    [Fact]
    public async Task returning_old_primary_is_detected_as_split_brain_and_fenced()
    {
        await using var cluster = await TestCluster.StartAsync(Fast);
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");
        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await WaitForWritableAsync(cluster.Pair.Standby, TimeSpan.FromSeconds(20));
        // The failover's fence may write its marker after on_failover's: deleted too early, it would pass for the split brain's.
        await Wait.UntilAsync(() => cluster.Marker("hook-failover") is not null && cluster.Marker("fenced-pg1") is not null, TimeSpan.FromSeconds(20), "failover's hook and fence ran");
        File.Delete(cluster.File("fenced-pg1"));

        await Wait.UntilAsync(() => cluster.Pair.Primary.PostmasterPid is null, TimeSpan.FromSeconds(20), "old postmaster gone");
        await cluster.Pair.Primary.StartAsync(CancellationToken.None);

        // The hook and the fence run side by side: wait for both.
        await Wait.UntilAsync(() => cluster.Marker("hook-split-brain") is not null && cluster.Marker("fenced-pg1") is not null, TimeSpan.FromSeconds(15), "split-brain hook and fence ran");
        Assert.Contains("split_brain old=pg1 new=pg2", cluster.Marker("hook-split-brain"), StringComparison.Ordinal);
        Assert.Contains("split_brain", cluster.Marker("fenced-pg1"), StringComparison.Ordinal);
        Assert.Null(cluster.Marker("fenced-pg2"));
        Assert.True(await monitor.MetricAsync("failoverwatch_split_brain_total{cluster=\"test\"}") >= 1);
        await monitor.WaitForOutputAsync("Split brain");
        await Wait.UntilAsync(() => cluster.Pair.Primary.PostmasterPid is null, TimeSpan.FromSeconds(20), "returning primary fenced (stopped)");
        Assert.False(await cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
        Assert.Equal("pg2", (await monitor.StatusAsync()).GetProperty("primary").GetString());
    }

    [Fact]
    public async Task monitor_killed_mid_failover_finishes_it_on_restart_without_promoting_twice()
    {
        // A fence that hangs keeps the failover "under way" after the promotion, long enough to kill the monitor there.
        var slowFence = "sleep 20";
        await using var cluster = await TestCluster.StartAsync(Fast, pg1FenceCommand: _ => slowFence);
        var first = await MonitorProcess.StartAsync(cluster);
        try
        {
            await WaitForPrimaryAsync(first, "pg1");
            await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
            await WaitForWritableAsync(cluster.Pair.Standby, TimeSpan.FromSeconds(20));
            Assert.Contains("\"in_progress\": {", await File.ReadAllTextAsync(cluster.StatePath), StringComparison.Ordinal);
            await first.KillAsync();
        }
        finally
        {
            await first.DisposeAsync();
        }

        await using var second = await MonitorProcess.StartAsync(cluster);
        await Wait.UntilAsync(async () => (await second.StatusAsync()).GetProperty("primary").GetString() == "pg2", TimeSpan.FromSeconds(30), "restarted monitor records pg2");
        // The restarted monitor runs the fence again (killed at hooks.timeout, 10 s) before it finishes the failover.
        await Wait.UntilAsync(() => !File.ReadAllText(cluster.StatePath).Contains("\"in_progress\": {", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "failover no longer under way");
        var state = JsonDocument.Parse(await File.ReadAllTextAsync(cluster.StatePath)).RootElement;
        Assert.Equal("pg2", state.GetProperty("primary").GetString());
        Assert.Equal(1, state.GetProperty("history").EnumerateArray().Count(h => h.GetProperty("result").GetString() == "promoted"));
        await second.WaitForOutputAsync("was under way and pg2 is writable");
        Assert.DoesNotContain("Failing over", second.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task on_failover_hook_and_monitoring_do_not_wait_for_a_hanging_fence()
    {
        // The fence hangs past every wait below however loaded the machine: hooks.timeout (which kills it) raised to match.
        await using var cluster = await TestCluster.StartAsync(Fast, pg1FenceCommand: _ => "sleep 120");
        var config = await File.ReadAllTextAsync(cluster.ConfigPath);
        await File.WriteAllTextAsync(cluster.ConfigPath, config.Replace("  timeout: 10s", "  timeout: 150s", StringComparison.Ordinal));
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");

        var clock = Stopwatch.StartNew();
        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await Wait.UntilAsync(() => cluster.Marker("hook-failover") is not null, TimeSpan.FromSeconds(9), "on_failover hook ran while the fence still hangs");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(9), $"hook after {clock.Elapsed}");

        var firstProbe = await LastProbeAsync(monitor, "pg2");
        await Wait.UntilAsync(async () => await LastProbeAsync(monitor, "pg2") > firstProbe, TimeSpan.FromSeconds(20), "rounds go on during the fence");
        Assert.Contains("\"in_progress\": {", await File.ReadAllTextAsync(cluster.StatePath), StringComparison.Ordinal);
        Assert.Equal("pg2", (await monitor.StatusAsync()).GetProperty("primary").GetString());
    }

    internal static async Task<DateTimeOffset> LastProbeAsync(MonitorProcess monitor, string node) =>
        (await monitor.StatusAsync()).GetProperty("nodes").EnumerateArray()
            .Single(n => n.GetProperty("name").GetString() == node).GetProperty("last_probe").GetDateTimeOffset();

    [Fact]
    public async Task paused_monitor_does_not_fail_over_until_resumed()
    {
        await using var cluster = await TestCluster.StartAsync(Fast);
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await monitor.PostAsync("pause", null)).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await monitor.PostAsync("pause", "wrong")).StatusCode);
        var (exit, output) = await MonitorProcess.RunCliAsync("pause", "--config", cluster.ConfigPath);
        Assert.True(exit == 0, output);
        Assert.True((await monitor.StatusAsync()).GetProperty("paused").GetBoolean());
        Assert.Equal(0, await monitor.MetricAsync("failoverwatch_auto_failover_enabled{cluster=\"test\"}"));
        Assert.Equal(1, await monitor.MetricAsync("failoverwatch_paused{cluster=\"test\"}"));

        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await monitor.WaitForMetricAtLeastAsync("failoverwatch_failovers_held_total{cluster=\"test\",reason=\"paused\"}", 3, TimeSpan.FromSeconds(20), "failover held while paused");
        Assert.True(await cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));

        Assert.True((await monitor.PostAsync("resume", cluster.AdminToken)).IsSuccessStatusCode);
        await WaitForWritableAsync(cluster.Pair.Standby, TimeSpan.FromSeconds(15));
    }

    internal static Task WaitForPrimaryAsync(MonitorProcess monitor, string node) =>
        Wait.UntilAsync(async () => (await monitor.StatusAsync()).GetProperty("primary").GetString() == node, TimeSpan.FromSeconds(20), $"{node} recorded as primary");

    internal static Task WaitForWritableAsync(FailoverWatch.LocalServers.LocalPostgresServer server, TimeSpan within) =>
        Wait.UntilAsync(
            async () =>
            {
                await server.ExecuteAsync("CREATE TABLE IF NOT EXISTS failover_probe (at timestamptz); INSERT INTO failover_probe VALUES (now())", CancellationToken.None);
                return true;
            },
            within,
            $"{server.Name} accepts a committed INSERT");
}
