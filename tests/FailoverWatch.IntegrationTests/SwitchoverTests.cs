using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.State;

namespace FailoverWatch.IntegrationTests;

public sealed class SwitchoverTests
{
    [Fact]
    public async Task switchover_swaps_roles_cleanly_and_keeps_every_row()
    {
        await using var cluster = await TestCluster.StartAsync("probe_interval: 500ms\nprobe_timeout: 1s");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await FailoverTests.WaitForPrimaryAsync(monitor, "pg1");
        await cluster.Pair.Primary.ExecuteAsync("CREATE TABLE kept AS SELECT generate_series(1, 5000) AS id", CancellationToken.None);

        var (exit, output) = await MonitorProcess.RunCliAsync("switchover", "--config", cluster.ConfigPath, "--to", "pg2");

        Assert.True(exit == 0, output + monitor.Output);
        Assert.Equal(5000L, await cluster.Pair.Standby.QueryScalarAsync<long>("SELECT count(*) FROM kept", CancellationToken.None));
        Assert.False(await cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
        Assert.Null(cluster.Pair.Primary.PostmasterPid);
        await Wait.UntilAsync(async () => (await monitor.StatusAsync()).GetProperty("primary").GetString() == "pg2", TimeSpan.FromSeconds(10), "pg2 recorded");
        Assert.Contains("switchover old=pg1 new=pg2", cluster.Marker("hook-failover"), StringComparison.Ordinal);
        Assert.Null(cluster.Marker("fenced-pg1"));
        // The old primary's way back (pg_rewind) needs the new timeline in pg2's control file.
        Assert.Equal(2, await cluster.Pair.Standby.QueryScalarAsync<int>("SELECT timeline_id FROM pg_control_checkpoint()", CancellationToken.None));
    }

    [Fact]
    public async Task switchover_is_refused_when_the_target_is_not_streaming()
    {
        await using var cluster = await TestCluster.StartAsync("probe_interval: 500ms\nprobe_timeout: 1s", relayReplication: true);
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await FailoverTests.WaitForPrimaryAsync(monitor, "pg1");
        cluster.Pair.ReplicationRelay!.Cut();
        await Wait.UntilAsync(async () => await monitor.MetricAsync("failoverwatch_standby_streaming{cluster=\"test\",node=\"pg2\"}") == 0, TimeSpan.FromSeconds(20), "pg2 not streaming");

        var (exit, output) = await MonitorProcess.RunCliAsync("switchover", "--config", cluster.ConfigPath, "--to", "pg2");

        Assert.Equal(1, exit);
        Assert.Contains("not a streaming standby", output, StringComparison.Ordinal);
        Assert.NotNull(cluster.Pair.Primary.PostmasterPid);
        Assert.False(await cluster.Pair.Primary.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
    }

    [Fact]
    public async Task a_monitor_killed_during_the_switchovers_hook_leaves_the_old_primarys_rejoin_saved_with_the_new_primary_and_a_restarted_one_runs_it()
    {
        // The hook kills the monitor (its parent) once: after the switchover recorded pg2, before the switchover's end.
        // pg1's rejoin_command fails until the restart, so a rejoin the killed monitor may start first takes nothing out.
        await using var cluster = await TestCluster.StartAsync(
            "probe_interval: 500ms\nprobe_timeout: 1s\nrejoin_retry: 5s",
            onFailoverHook: c => $"test -e {c.File("killed")} || {{ touch {c.File("killed")}; kill -9 $PPID; }}",
            pg1RejoinCommand: c => $"test -e {c.File("restarted")} && {c.RecordTo("rejoin-pg1")}");
        await using (var monitor = await MonitorProcess.StartAsync(cluster))
        {
            await FailoverTests.WaitForPrimaryAsync(monitor, "pg1");
            await MonitorProcess.RunCliAsync("switchover", "--config", cluster.ConfigPath, "--to", "pg2");
            await Wait.UntilAsync(() => Task.FromResult(monitor.HasExited), TimeSpan.FromSeconds(30), "the hook killed the monitor");
        }

        var state = FailoverStateStore.Load(cluster.StatePath);
        Assert.Equal("pg2", state.Primary);
        Assert.Contains(state.Rejoins, r => r.Node == "pg1");
        await File.WriteAllTextAsync(cluster.File("restarted"), "");
        await using var restarted = await MonitorProcess.StartAsync(cluster);
        await Wait.UntilAsync(() => Task.FromResult(cluster.Marker("rejoin-pg1") is not null), TimeSpan.FromSeconds(30), "the restarted monitor ran pg1's rejoin_command");
    }
}
