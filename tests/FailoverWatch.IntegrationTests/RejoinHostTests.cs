using System.Globalization;
using System.Text.Json;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.State;

namespace FailoverWatch.IntegrationTests;

/// <summary>The host's rejoin_command: after a failover the fenced old primary and a third node come back as standbys by themselves.</summary>
public sealed class RejoinHostTests
{
    private const int LostCommits = 10;

    [Fact]
    public async Task after_a_failover_the_host_rejoins_the_fenced_old_primary_saving_its_lost_commits_first_and_then_the_third_node()
    {
        await using var cluster = await TestCluster.StartAsync(
            "probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 3\nrejoin_retry: 5s\nrejoin_timeout: 3m",
            relayReplication: true,
            // A dead server's immediate stop finds nothing to stop; systemctl stop would say 0 too.
            pg1FenceCommand: c => $"{c.RecordTo("fenced-pg1")}; {TestCluster.StopCommand(c.Pair.Primary)} || true",
            pg1RejoinCommand: c => "sh " + c.File("rejoin-pg1.sh"),
            pg3RejoinCommand: c => "sh " + c.File("rejoin-pg3.sh"));
        var (pg1, pg2, pg3) = (cluster.Pair.Primary, cluster.Pair.Standby, cluster.Cascaded!);
        await WriteRejoinScriptAsync(cluster, pg1);
        await WriteRejoinScriptAsync(cluster, pg3);
        await pg1.ExecuteAsync("CREATE TABLE lost_rows (id int)", CancellationToken.None);
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await FailoverTests.WaitForPrimaryAsync(monitor, "pg1");
        await Wait.UntilAsync(
            async () => await pg2.QueryScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE tablename = 'lost_rows'", CancellationToken.None) == 1,
            TimeSpan.FromSeconds(30),
            "pg2 has the table");

        cluster.Pair.ReplicationRelay!.Cut();
        for (var i = 0; i < LostCommits; i++)
        {
            await pg1.ExecuteAsync(string.Create(CultureInfo.InvariantCulture, $"INSERT INTO lost_rows VALUES ({i})"), CancellationToken.None);
        }

        await pg1.SignalAsync("KILL", CancellationToken.None);
        try
        {
            await FailoverTests.WaitForWritableAsync(pg2, TimeSpan.FromSeconds(60));
            await Wait.UntilAsync(
                async () => await monitor.MetricAsync("failoverwatch_rejoins_total{cluster=\"test\",node=\"pg1\",result=\"streaming\"}") == 1,
                TimeSpan.FromSeconds(120),
                "pg1 rejoined by the host");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\nmonitor:\n{monitor.Output}\npg1's log:\n{await File.ReadAllTextAsync(pg1.LogFile)}", e);
        }

        await RejoinCommandTests.AssertStreamsAsync(pg1, pg2);

        // The rejoin is counted first; the salvaged commits next, and the incident's record is saved to the state after both.
        await monitor.WaitForMetricAtLeastAsync("failoverwatch_salvaged_commits_total{cluster=\"test\",node=\"pg1\"}", LostCommits, TimeSpan.FromSeconds(20), "pg1's lost commits counted as salvaged");
        Assert.Equal(0, await monitor.MetricAsync("failoverwatch_command_failures_total{cluster=\"test\",command=\"rejoin\"}"));
        var incident = default(JsonElement);
        await Wait.UntilAsync(
            async () => (incident = (await monitor.IncidentsAsync()).Last(i => i.GetProperty("kind").GetString() == "failover")).GetProperty("rejoin").ValueKind == JsonValueKind.Object,
            TimeSpan.FromSeconds(20),
            "the failover's incident records pg1's rejoin");
        Assert.Equal("pg1", incident.GetProperty("rejoin").GetProperty("node").GetString());
        Assert.True(incident.GetProperty("rejoin").GetProperty("rewound").GetBoolean());
        Assert.True(incident.GetProperty("salvage").GetProperty("commits").GetInt32() >= LostCommits);
        Assert.Contains("postgres.public.lost_rows", incident.GetProperty("salvage").GetProperty("relations").EnumerateArray().Select(r => r.GetString()));
        Assert.Contains(incident.GetProperty("phases").EnumerateArray(), p => p.GetProperty("name").GetString() == "rejoin" && p.GetProperty("ok").GetBoolean());
        Assert.Null(cluster.Marker("hook-split-brain"));

        // pg3 streamed through the cut relay too: left following nobody, it is rejoined once it has not streamed for a minute.
        await Wait.UntilAsync(
            async () => await monitor.MetricAsync("failoverwatch_rejoins_total{cluster=\"test\",node=\"pg3\",result=\"streaming\"}") == 1,
            TimeSpan.FromSeconds(150),
            "pg3 rejoined by the host");
        await RejoinCommandTests.AssertStreamsAsync(pg3, pg2);
        Assert.Equal(1, await pg3.QueryScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE tablename = 'lost_rows'", CancellationToken.None));
    }

    [Fact]
    public async Task a_standby_following_the_wrong_upstream_is_repointed_without_a_restart_and_after_a_switchover_the_host_rejoins_the_stopped_old_primary_without_rewinding_it_before_switching_back_to_it()
    {
        await using var cluster = await TestCluster.StartAsync(
            "probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 3\nrejoin_retry: 5s", pg1RejoinCommand: c => "sh " + c.File("rejoin-pg1.sh"),
            cascadedStandby: true, pg3RejoinCommand: c => "sh " + c.File("rejoin-pg3.sh"));
        var (pg1, pg2, pg3) = (cluster.Pair.Primary, cluster.Pair.Standby, cluster.Cascaded!);
        await WriteRejoinScriptAsync(cluster, pg1);
        await WriteRejoinScriptAsync(cluster, pg3);
        var pg3Postmaster = pg3.PostmasterPid;
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await FailoverTests.WaitForPrimaryAsync(monitor, "pg1");

        // pg3 streams from the standby pg2: primary_conninfo and a reload point it at pg1, the same server process throughout.
        await Wait.UntilAsync(
            async () => await pg1.QueryScalarAsync<long>("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND application_name = 'pg3'", CancellationToken.None) == 1,
            TimeSpan.FromSeconds(60),
            "pg3 streaming from pg1");
        // Logged once the reload is done, which is before pg3 streams from pg1 only as a rule.
        await monitor.WaitForOutputAsync("primary_conninfo now names pg1");
        Assert.Equal(0, await pg2.QueryScalarAsync<long>("SELECT count(*) FROM pg_stat_replication WHERE application_name = 'pg3'", CancellationToken.None));
        Assert.Equal(pg3Postmaster, pg3.PostmasterPid);
        Assert.Equal(0, await monitor.MetricAsync("failoverwatch_rejoins_total{cluster=\"test\",node=\"pg3\",result=\"streaming\"}"));

        // Paused, so the rejoin does not start before the kill below (a paused host switches over but rejoins nothing).
        Assert.True((await monitor.PostAsync("pause", cluster.AdminToken)).IsSuccessStatusCode);
        var (exit, output) = await MonitorProcess.RunCliAsync("switchover", "--config", cluster.ConfigPath, "--to", "pg2");
        Assert.True(exit == 0, output);

        // The old primary's rejoin was saved before the switchover said done: a monitor killed right after still brings it back.
        await monitor.KillAsync();
        Assert.Contains(FailoverStateStore.Load(cluster.StatePath).Rejoins, r => r.Node == "pg1");
        await using var restarted = await MonitorProcess.StartAsync(cluster);

        // pg1's rejoin_command goes on after pg1 streams, as one that polls for streaming does: until the test lets it end
        // (a fixed sleep would end it before a slow CLI's switchover arrives), or a minute at most.
        var rejoinMayEnd = cluster.File("rejoin-may-end");
        await File.AppendAllTextAsync(cluster.File("rejoin-pg1.sh"), $"rc=$?; i=0; while [ ! -f {rejoinMayEnd} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; exit $rc\n");
        Assert.True((await restarted.PostAsync("resume", cluster.AdminToken)).IsSuccessStatusCode);
        await Wait.UntilAsync(
            async () => (await restarted.StatusAsync()).GetProperty("nodes").EnumerateArray().Any(n => n.GetProperty("name").GetString() == "pg1" && n.GetProperty("streaming").ValueKind == System.Text.Json.JsonValueKind.True),
            TimeSpan.FromSeconds(60),
            "pg1 streaming, rejoined by the restarted monitor");

        // A switchover back to pg1 while its rejoin still runs waits until that rejoin has ended, then goes ahead.
        var switchBack = MonitorProcess.RunCliAsync("switchover", "--config", cluster.ConfigPath, "--to", "pg1");
        const string Waiting = "waiting up to 120s for the rejoin of pg1 to finish";
        await Wait.UntilAsync(() => switchBack.IsCompleted || restarted.Output.Contains(Waiting, StringComparison.Ordinal), TimeSpan.FromSeconds(60), "the switchover to wait for pg1's rejoin");
        Assert.Contains(Waiting, restarted.Output, StringComparison.Ordinal);
        await File.WriteAllTextAsync(rejoinMayEnd, "");
        (exit, output) = await switchBack;
        Assert.True(exit == 0, output + restarted.Output);
        Assert.Equal(1, await restarted.MetricAsync("failoverwatch_rejoins_total{cluster=\"test\",node=\"pg1\",result=\"streaming\"}"));
        Assert.Equal(0, await restarted.MetricAsync("failoverwatch_rejoins_total{cluster=\"test\",node=\"pg1\",result=\"failed\"}"));
        Assert.Equal(0, await restarted.MetricAsync("failoverwatch_salvaged_commits_total{cluster=\"test\",node=\"pg1\"}"));
        // Logged just after the rejoin is counted.
        await restarted.WaitForOutputAsync("rewound: False");
    }

    /// <summary>As an ssh forced command would: the new primary's address comes from the host's environment.</summary>
    internal static Task WriteRejoinScriptAsync(TestCluster cluster, LocalServers.LocalPostgresServer node) =>
        File.WriteAllTextAsync(cluster.File($"rejoin-{node.Name}.sh"), MonitorProcess.ShellCommandLine(
            "rejoin", "--pgdata", node.DataDirectory, "--node", node.Name, "--start-command", node.StartCommandLine(), "--stream-timeout", "60s")
            + " --source \"host=$FW_NEW_PRIMARY_HOST port=$FW_NEW_PRIMARY_PORT user=postgres dbname=postgres\"\n");
}
