using System.Text.Json;
using Xunit.Abstractions;
using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.IntegrationTests;

/// <summary><c>failoverwatch drill</c>: the running monitor runs it (POST /drill), rejoins each old primary (rejoin_command) and records it as an incident.</summary>
public sealed class DrillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task drill_switches_over_and_back_with_no_acknowledged_canary_write_lost()
    {
        await using var cluster = await TestCluster.StartAsync(
            "probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 3\nrejoin_retry: 5s\nrejoin_timeout: 2m",
            pg1RejoinCommand: c => "sh " + c.File("rejoin-pg1.sh"),
            pg2RejoinCommand: c => "sh " + c.File("rejoin-pg2.sh"));
        var (pg1, pg2) = (cluster.Pair.Primary, cluster.Pair.Standby);
        await RejoinHostTests.WriteRejoinScriptAsync(cluster, pg1);
        await RejoinHostTests.WriteRejoinScriptAsync(cluster, pg2);
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await FailoverTests.WaitForPrimaryAsync(monitor, "pg1");

        var (exit, printed) = await MonitorProcess.RunCliAsync("drill", "--config", cluster.ConfigPath);
        output.WriteLine(printed);

        Assert.True(exit == 0, printed);
        using var report = JsonDocument.Parse(printed.Split('\n').Single(l => l.StartsWith('{')));
        var root = report.RootElement;
        Assert.True(root.GetProperty("passed").GetBoolean(), printed);
        Assert.Equal(("pg1", "pg2"), (root.GetProperty("from").GetString(), root.GetProperty("to").GetString()));
        Assert.Equal(
            ["ready", "canary_start", "switchover_to_pg2", "pg1_streams", "switchover_to_pg1", "pg2_streams", "canary_check"],
            root.GetProperty("phases").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.Equal(0, root.GetProperty("canary_lost").GetInt32());
        var acknowledged = root.GetProperty("canary_acknowledged").GetInt32();
        Assert.True(acknowledged > 0, printed);
        Assert.True(root.GetProperty("writes_refused").GetArrayLength() >= 1, "a switchover refuses writes for a moment: " + printed);

        // Both switchovers happened: pg1 is the primary again, pg2 streams from it, and pg1 holds every canary row.
        await FailoverTests.WaitForWritableAsync(pg1, TimeSpan.FromSeconds(30));
        await RejoinCommandTests.AssertStreamsAsync(pg2, pg1);
        // Two promotions: pg2 to timeline 2, then pg1 to timeline 3.
        Assert.Equal("00000003", await pg1.QueryScalarAsync<string>("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)", CancellationToken.None));
        Assert.True(await pg1.QueryScalarAsync<long>("SELECT count(*) FROM failoverwatch_drill_canary", CancellationToken.None) >= acknowledged);

        // The host recorded it: each step timed, both rejoins (nothing rewound), the canary, and the refused writes per switchover.
        var id = root.GetProperty("incident").GetString()!;
        var incident = (await monitor.IncidentsAsync()).Single(i => i.GetProperty("id").GetString() == id);
        Assert.Equal(("drill", "passed"), (incident.GetProperty("kind").GetString(), incident.GetProperty("result").GetString()));
        var phases = incident.GetProperty("phases").EnumerateArray().ToList();
        Assert.All(phases, p => Assert.True(p.GetProperty("ok").GetBoolean(), incident.ToString()));
        Assert.Equal(2, phases.Count(p => p.GetProperty("name").GetString() == "rejoin"));

        // The switch back began only once pg1's rejoin had ended, not as soon as pg1 streamed (its rejoin_command still watching).
        DateTimeOffset At(string name, string? detail = null) =>
            phases.Single(p => p.GetProperty("name").GetString() == name && (detail is null || p.GetProperty("detail").GetString() == detail)).GetProperty("at").GetDateTimeOffset();
        Assert.True(At("rejoin", "pg1") <= At("switchover_to_pg1"), incident.ToString());
        Assert.True(phases.Single(p => p.GetProperty("name").GetString() == "switchover_to_pg2").GetProperty("seconds").GetDouble() > 0);
        Assert.False(incident.GetProperty("rejoin").GetProperty("rewound").GetBoolean());
        var drill = incident.GetProperty("drill");
        Assert.Equal((acknowledged, 0), (drill.GetProperty("canary_acknowledged").GetInt32(), drill.GetProperty("canary_lost").GetInt32()));
        Assert.All(drill.GetProperty("writes_refused").EnumerateArray(), w => Assert.StartsWith("switchover_to_", w.GetProperty("during").GetString(), StringComparison.Ordinal));
        var (_, explained) = await MonitorProcess.RunCliAsync("explain", "--config", cluster.ConfigPath, id);
        output.WriteLine(explained);
        Assert.Contains($"canary: {acknowledged} acknowledged writes, 0 lost", explained, StringComparison.Ordinal);
        Assert.Contains("during switchover_to_pg", explained, StringComparison.Ordinal);

        // Right after that switchover back, a second drill starts: the doctor's checks run afresh, not the last verdict.
        var (again, printedAgain) = await MonitorProcess.RunCliAsync("drill", "--config", cluster.ConfigPath);
        output.WriteLine(printedAgain);
        Assert.True(again == 0, printedAgain + monitor.Output);
    }

    [Fact]
    public async Task drill_stops_at_a_refused_switchover_and_leaves_the_primary_where_it_was()
    {
        // pg1's stop_command fails: the host's switchover stops there, nothing promoted.
        await using var cluster = await TestCluster.StartAsync("probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 3", pg1StopCommand: _ => "false");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await FailoverTests.WaitForPrimaryAsync(monitor, "pg1");

        var (exit, printed) = await MonitorProcess.RunCliAsync("drill", "--config", cluster.ConfigPath);
        output.WriteLine(printed);

        Assert.True(exit == 1, printed);
        using var report = JsonDocument.Parse(printed.Split('\n').Single(l => l.StartsWith('{')));
        var root = report.RootElement;
        Assert.False(root.GetProperty("passed").GetBoolean());
        var phases = root.GetProperty("phases").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("ok").GetBoolean());
        Assert.Equal(["ready", "canary_start", "switchover_to_pg2", "put_back_pg1", "canary_check"], phases.Keys);
        Assert.False(phases["switchover_to_pg2"]);
        Assert.True(phases["put_back_pg1"] && phases["canary_check"], printed);
        Assert.Contains("switchover to pg2 refused: stop_command of pg1 failed; nothing was promoted", printed, StringComparison.Ordinal);
        Assert.Equal(0, root.GetProperty("canary_lost").GetInt32());
        var incident = (await monitor.IncidentsAsync()).Single(i => i.GetProperty("kind").GetString() == "drill");
        Assert.Equal("failed", incident.GetProperty("result").GetString());
        Assert.Equal("pg1", (await monitor.StatusAsync()).GetProperty("primary").GetString());
        Assert.False(await cluster.Pair.Primary.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
    }

    [Fact]
    public async Task drill_does_not_start_while_the_standby_is_down()
    {
        await using var cluster = await TestCluster.StartAsync("probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 3");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await FailoverTests.WaitForPrimaryAsync(monitor, "pg1");
        await cluster.Pair.Standby.StopAsync(CancellationToken.None);
        // As the host sees it: the drill reads the host's last round, and says at once what no wait mends.
        await Wait.UntilAsync(
            async () => (await monitor.StatusAsync()).GetProperty("nodes").EnumerateArray().Any(n => n.GetProperty("name").GetString() == "pg2" && !n.GetProperty("reachable").GetBoolean()),
            TimeSpan.FromSeconds(30),
            "the host sees pg2 down");

        var started = System.Diagnostics.Stopwatch.StartNew();
        var (exit, printed) = await MonitorProcess.RunCliAsync("drill", "--config", cluster.ConfigPath);
        output.WriteLine(printed);

        Assert.True(exit == 1, printed);
        using var report = JsonDocument.Parse(printed.Split('\n').Single(l => l.StartsWith('{')));
        var phase = Assert.Single(report.RootElement.GetProperty("phases").EnumerateArray());
        Assert.Equal("ready", phase.GetProperty("name").GetString());
        Assert.Contains("pg2", phase.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.True(phase.GetProperty("seconds").GetDouble() < 5, "not ready for a reason no wait mends: said at once, " + printed);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), $"{started.Elapsed}");
        Assert.Equal("pg1", (await monitor.StatusAsync()).GetProperty("primary").GetString());
        Assert.DoesNotContain(await monitor.IncidentsAsync(), i => i.GetProperty("kind").GetString() == "drill");
    }
}
