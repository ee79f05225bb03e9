using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.IntegrationTests.Readiness;

/// <summary><c>failoverwatch doctor</c> and the host's failoverwatch_failover_ready, from one implementation, against a real pair.</summary>
public sealed class DoctorTests
{
    private const string Settings = "probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 3\nreadiness_interval: 1s";
    private const string Pg2Ready = "failoverwatch_failover_ready{cluster=\"test\",node=\"pg2\"}";
    private const string MissingPromote = "pg2: role fw_monitor may not EXECUTE pg_promote()";

    [Fact]
    public async Task revoking_pg_promote_makes_doctor_name_it_and_the_gauge_drop_and_granting_it_back_recovers_both()
    {
        await using var cluster = await TestCluster.StartAsync(Settings, monitorUser: "fw_monitor");
        await cluster.Pair.Primary.ExecuteAsync(
            "CREATE ROLE fw_monitor LOGIN; GRANT pg_monitor, pg_checkpoint TO fw_monitor; GRANT EXECUTE ON FUNCTION pg_promote TO fw_monitor",
            CancellationToken.None);
        await WaitForStandbyAsync(cluster, "SELECT has_function_privilege('fw_monitor', 'pg_promote(boolean, integer)', 'EXECUTE')", true);

        var (ready, readyOutput) = await MonitorProcess.RunCliAsync("doctor", "--config", cluster.ConfigPath);
        Assert.True(ready == 0, readyOutput);
        Assert.Contains("ready: primary pg1; a failover to pg2 would work now", readyOutput, StringComparison.Ordinal);

        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await Wait.UntilAsync(async () => await monitor.MetricAsync(Pg2Ready) == 1, TimeSpan.FromSeconds(20), "pg2 ready");

        await cluster.Pair.Primary.ExecuteAsync("REVOKE EXECUTE ON FUNCTION pg_promote FROM fw_monitor", CancellationToken.None);
        await WaitForStandbyAsync(cluster, "SELECT has_function_privilege('fw_monitor', 'pg_promote(boolean, integer)', 'EXECUTE')", false);
        var (notReady, notReadyOutput) = await MonitorProcess.RunCliAsync("doctor", "--config", cluster.ConfigPath);
        Assert.True(notReady == 1, notReadyOutput);
        Assert.Contains(MissingPromote, notReadyOutput, StringComparison.Ordinal);
        Assert.Contains("cluster: no standby is ready to be promoted", notReadyOutput, StringComparison.Ordinal);
        await Wait.UntilAsync(async () => await monitor.MetricAsync(Pg2Ready) == 0, TimeSpan.FromSeconds(20), "pg2 not ready");

        // The gauge is set before /status gets the report it came from: wait for that too.
        await Wait.UntilAsync(async () => (await ProblemsAsync(monitor)).Any(p => p!.StartsWith(MissingPromote, StringComparison.Ordinal)), TimeSpan.FromSeconds(20), "/status naming the missing grant");
        await monitor.WaitForOutputAsync("A failover to pg2 would not work now");

        await cluster.Pair.Primary.ExecuteAsync("GRANT EXECUTE ON FUNCTION pg_promote TO fw_monitor", CancellationToken.None);
        await WaitForStandbyAsync(cluster, "SELECT has_function_privilege('fw_monitor', 'pg_promote(boolean, integer)', 'EXECUTE')", true);
        Assert.Equal(0, (await MonitorProcess.RunCliAsync("doctor", "--config", cluster.ConfigPath)).ExitCode);
        await Wait.UntilAsync(async () => await monitor.MetricAsync(Pg2Ready) == 1, TimeSpan.FromSeconds(20), "pg2 ready again");
        await Wait.UntilAsync(async () => (await ProblemsAsync(monitor)).Count == 0, TimeSpan.FromSeconds(20), "/status naming no problem");
    }

    /// <summary>/status's failover_readiness.problems (an array, even when empty).</summary>
    private static async Task<List<string?>> ProblemsAsync(MonitorProcess monitor) =>
        [.. (await monitor.StatusAsync()).GetProperty("failover_readiness").GetProperty("problems").EnumerateArray().Select(p => p.GetString())];

    [Fact]
    public async Task doctor_names_a_hook_that_cannot_run_a_standby_without_hot_standby_and_refuses_an_invalid_config()
    {
        await using var cluster = await TestCluster.StartAsync(Settings, onFailoverHook: _ => "/nonexistent/repoint-clients --now");
        var (status, output) = await MonitorProcess.RunCliAsync("doctor", "--config", cluster.ConfigPath);
        Assert.True(status == 1, output);
        Assert.Contains("hooks.on_failover: on_failover cannot run: /nonexistent/repoint-clients is not found or not executable", output, StringComparison.Ordinal);

        // A standby restarted with hot_standby off refuses connections: doctor says why, not just "unreachable".
        await cluster.Pair.Standby.StopAsync(CancellationToken.None);
        await File.AppendAllTextAsync(Path.Combine(cluster.Pair.Standby.DataDirectory, "postgresql.auto.conf"), "hot_standby = off\n");
        await cluster.Pair.Standby.StartAsync(CancellationToken.None);
        var (off, offOutput) = await MonitorProcess.RunCliAsync("doctor", "--config", cluster.ConfigPath);
        Assert.True(off == 1, offOutput);
        Assert.Contains("pg2: hot_standby is off", offOutput, StringComparison.Ordinal);

        await File.AppendAllTextAsync(cluster.ConfigPath, "bogus_key: 1\n");
        var (invalid, invalidOutput) = await MonitorProcess.RunCliAsync("doctor", "--config", cluster.ConfigPath);
        Assert.True(invalid == 2, invalidOutput);
        Assert.Contains("bogus_key", invalidOutput, StringComparison.Ordinal);
    }

    private static Task WaitForStandbyAsync(TestCluster cluster, string sql, bool expected) =>
        Wait.UntilAsync(
            async () => await cluster.Pair.Standby.QueryScalarAsync<bool>(sql, CancellationToken.None) == expected,
            TimeSpan.FromSeconds(30),
            $"the standby answers {expected} to {sql}");
}
