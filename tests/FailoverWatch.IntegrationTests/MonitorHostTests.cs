using System.Diagnostics;
using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.IntegrationTests;

/// <summary>The host as an operator sees it: CLI exit codes, /metrics, /status, state changes.</summary>
public sealed class MonitorHostTests
{
    [Fact]
    public async Task metrics_status_and_cli_report_the_real_pair()
    {
        await using var cluster = await TestCluster.StartAsync("probe_interval: 500ms\nprobe_timeout: 3s");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await FailoverTests.WaitForPrimaryAsync(monitor, "pg1");

        // The last-failover gauge exists once there has been one; every other monitoring row is there from the start.
        var scrape = await monitor.MetricsAsync();
        foreach (var name in ContractMetrics.Monitoring.Where(m => m != "failoverwatch_last_failover_timestamp_seconds"))
        {
            Assert.Contains("\n" + name, scrape, StringComparison.Ordinal);
        }

        Assert.Contains("failoverwatch_standby_streaming{cluster=\"test\",node=\"pg2\"} 1", scrape, StringComparison.Ordinal);
        Assert.Contains("failoverwatch_node_is_primary{cluster=\"test\",node=\"pg1\"} 1", scrape, StringComparison.Ordinal);
        Assert.Contains("# TYPE failoverwatch_probe_duration_seconds histogram", scrape, StringComparison.Ordinal);
        Assert.Contains("# TYPE failoverwatch_failovers_total counter", scrape, StringComparison.Ordinal);

        var status = await monitor.StatusAsync();
        Assert.Equal("test", status.GetProperty("cluster").GetString());
        Assert.True(status.GetProperty("auto_failover").GetBoolean());
        var standby = status.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("name").GetString() == "pg2");
        Assert.Equal("standby", standby.GetProperty("role").GetString());
        Assert.True(standby.GetProperty("streaming").GetBoolean());
        Assert.Equal(0, standby.GetProperty("lag_bytes").GetInt64());
        Assert.DoesNotContain("password", status.ToString(), StringComparison.OrdinalIgnoreCase);

        var (exit, output) = await MonitorProcess.RunCliAsync("status", "--config", cluster.ConfigPath);
        Assert.True(exit == 0, output);
        Assert.Contains("primary pg1", output, StringComparison.Ordinal);
        var (jsonExit, json) = await MonitorProcess.RunCliAsync("status", "--config", cluster.ConfigPath, "--json");
        Assert.Equal(0, jsonExit);
        Assert.Contains("\"lag_seconds\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task stopped_standby_shows_node_up_0_within_two_intervals()
    {
        await using var cluster = await TestCluster.StartAsync("probe_interval: 1s\nprobe_timeout: 1s");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await Wait.UntilAsync(async () => await monitor.MetricAsync("failoverwatch_node_up{cluster=\"test\",node=\"pg2\"}") == 1, TimeSpan.FromSeconds(20), "pg2 up");

        await cluster.Pair.Standby.StopAsync(CancellationToken.None, "immediate");
        var clock = Stopwatch.StartNew();
        await Wait.UntilAsync(async () => await monitor.MetricAsync("failoverwatch_node_up{cluster=\"test\",node=\"pg2\"}") == 0, TimeSpan.FromSeconds(10), "pg2 down");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2 + 1), $"took {clock.Elapsed}"); // two intervals, and a second of slack for a busy machine
        await monitor.WaitForOutputAsync("Node pg2 is down");
        Assert.Equal(1, await monitor.MetricAsync("failoverwatch_node_up{cluster=\"test\",node=\"pg1\"}"));
    }

    [Fact]
    public async Task write_probe_counts_blocked_commits_as_failed_probes_with_the_reason()
    {
        await using var cluster = await TestCluster.StartAsync("probe_interval: 500ms\nprobe_timeout: 1s\nwrite_probe: true\nauto_failover: false");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await FailoverTests.WaitForPrimaryAsync(monitor, "pg1");

        // A backend holding ACCESS EXCLUSIVE on the heartbeat table: the primary answers reads but cannot commit the beat.
        await using var blocker = new Npgsql.NpgsqlConnection(cluster.Pair.Primary.ConnectionString());
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var lockTable = new Npgsql.NpgsqlCommand("LOCK TABLE failoverwatch.heartbeat IN ACCESS EXCLUSIVE MODE", blocker, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        await monitor.WaitForMetricAtLeastAsync("failoverwatch_probe_failures_total{cluster=\"test\",node=\"pg1\",reason=\"write_failed\"}", 2, TimeSpan.FromSeconds(15), "write_failed probes counted");
        Assert.Equal(0, await monitor.MetricAsync("failoverwatch_node_up{cluster=\"test\",node=\"pg1\"}"));
        var error = (await monitor.StatusAsync()).GetProperty("nodes")[0].GetProperty("error").GetString();
        Assert.StartsWith("write_failed", error, StringComparison.Ordinal);

        await transaction.RollbackAsync();
        await Wait.UntilAsync(async () => await monitor.MetricAsync("failoverwatch_node_up{cluster=\"test\",node=\"pg1\"}") == 1, TimeSpan.FromSeconds(10), "pg1 healthy again");
    }

    [Fact]
    public async Task invalid_config_exits_2_naming_the_key_before_anything_runs()
    {
        using var directory = new TempDirectory();
        var config = directory.File("bad.yaml");
        await File.WriteAllTextAsync(config, "cluster:\n  name: t\n  nodes:\n    - { name: pg1, host: a, port: 99999 }\nmonitor:\n  probe_interval: 5x\n");

        foreach (var command in (string[])["run", "check-config", "status"])
        {
            var (exit, output) = await MonitorProcess.RunCliAsync(command, "--config", config);
            Assert.Equal(2, exit);
            Assert.Contains("cluster.nodes[0].port: 99999 is out of range", output, StringComparison.Ordinal);
            Assert.Contains("monitor.probe_interval: '5x' is not a duration", output, StringComparison.Ordinal);
            Assert.Contains("cluster.nodes: needs at least two nodes", output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        }
    }
}
