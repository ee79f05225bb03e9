using System.Diagnostics;
using System.Net;
using System.Text.Json;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;

namespace FailoverWatch.IntegrationTests.Coordination;

/// <summary>Three real monitors on a real 3-member etcd watching a real pair; every fault caused for real.</summary>
public sealed class CoordinationTests
{
    private const string Fast = "probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 3";
    private static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(MonitorGroup.LeaseTtlSeconds);
    private const string WriteBeforeSwitchover = "CREATE TABLE written_before (id int); INSERT INTO written_before VALUES (7)";

    /// <summary>
    /// Over https (http.tls): forwarding, the CLI, a monitor refusing a leader its CA does not vouch for, and renewed
    /// certificate and CA files taken without a restart are all shown here.
    /// </summary>
    [Fact]
    public async Task one_leader_is_elected_any_monitor_takes_a_pause_and_a_killed_leader_is_replaced_within_lease_ttl()
    {
        await using var group = await MonitorGroup.StartAsync(Fast, tls: true);
        var leader = await group.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var follower = (leader + 1) % 3;

        var status = await group[follower].StatusAsync();
        Assert.Equal(MonitorGroup.Name(follower), status.GetProperty("monitor_name").GetString());
        Assert.Equal(MonitorGroup.Name(leader), status.GetProperty("leader").GetString());
        await Wait.UntilAsync(async () => (await group[follower].StatusAsync()).GetProperty("monitors").GetArrayLength() == 3, TimeSpan.FromSeconds(10), "three monitors listed");
        Assert.All((await group[follower].StatusAsync()).GetProperty("monitors").EnumerateArray(), m => Assert.True(m.GetProperty("sees_primary").GetBoolean()));
        Assert.Equal(0, await group[follower].MetricAsync("failoverwatch_is_leader{cluster=\"test\"}"));
        // The gauges are set at the end of the follower's own tick, which can come after its /status lists the third monitor.
        await Wait.UntilAsync(
            async () => await group[follower].MetricAsync("failoverwatch_monitors{cluster=\"test\"}") == 3 && await group[follower].MetricAsync("failoverwatch_coordination_up{cluster=\"test\"}") == 1,
            TimeSpan.FromSeconds(10),
            "the follower's monitors gauge at 3 and coordination_up at 1");

        // pause through a follower: the leader carries it out, the state in etcd says so, every monitor shows it.
        var paused = await group[follower].PostAsync("pause", group.Cluster.AdminToken);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.True((await group.StateAsync()).Paused);
        await Wait.UntilAsync(async () => (await group[follower].StatusAsync()).GetProperty("paused").GetBoolean(), TimeSpan.FromSeconds(10), "the follower shows paused");
        await group[follower].WaitForMetricAtLeastAsync("failoverwatch_paused{cluster=\"test\"}", 1, TimeSpan.FromSeconds(10), "the follower's paused gauge");
        Assert.Equal(HttpStatusCode.Unauthorized, (await group[follower].PostAsync("resume", "wrong")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await group[follower].PostAsync("resume", group.Cluster.AdminToken)).StatusCode);
        Assert.False((await group.StateAsync()).Paused);

        // The CLI reaches the follower over https, trusting the config's ca_file; the follower forwards to the leader.
        var (exit, output) = await MonitorProcess.RunCliAsync("pause", "--config", group.ConfigPath(follower));
        Assert.True(exit == 0 && (await group.StateAsync()).Paused, output);
        (exit, output) = await MonitorProcess.RunCliAsync("resume", "--config", group.ConfigPath(follower));
        Assert.True(exit == 0 && !(await group.StateAsync()).Paused, output);

        // A fourth monitor whose ca_file is another CA (same name, other key) refuses the leader's certificate:
        // the bearer token is never sent, nothing is paused.
        var certificates = group.Certificates!;
        var wrongCaPort = OsUser.FreeLoopbackPort();
        var wrongCaConfig = await group.WriteExtraConfigAsync("fw4", wrongCaPort);
        await File.WriteAllTextAsync(wrongCaConfig, (await File.ReadAllTextAsync(wrongCaConfig)).Replace($"ca_file: {certificates.CaFile} ", $"ca_file: {certificates.OtherCaFile} ", StringComparison.Ordinal));
        await using (var wrongCa = await MonitorProcess.StartAsync(wrongCaConfig, wrongCaPort, certificates.CaFile))
        {
            HttpResponseMessage refused = null!;
            await Wait.UntilAsync(async () => (refused = await wrongCa.PostAsync("pause", group.Cluster.AdminToken)).StatusCode != HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(15), "fw4 knows the leader");
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.BadGateway, body);
            Assert.Contains("certificate", body, StringComparison.OrdinalIgnoreCase);
            Assert.False((await group.StateAsync()).Paused);

            // Without a restart: fw4's ca_file is put right, and the certificate every monitor serves is renewed.
            File.Copy(certificates.CaFile, certificates.OtherCaFile + ".new");
            File.Move(certificates.OtherCaFile + ".new", certificates.OtherCaFile, overwrite: true);
            var renewed = await certificates.RenewAsync();
            await Wait.UntilAsync(async () => await TestCertificates.ServedAsync(group[follower].BaseAddress) == renewed, TimeSpan.FromSeconds(20), "the renewed certificate served");
            await Wait.UntilAsync(async () => (await wrongCa.PostAsync("pause", group.Cluster.AdminToken)).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(20), "fw4 trusting the leader by its changed ca_file");
            Assert.True((await group.StateAsync()).Paused);
            Assert.Equal(HttpStatusCode.OK, (await wrongCa.PostAsync("resume", group.Cluster.AdminToken)).StatusCode);
        }

        // A second monitor with a name already in use refuses to run and names the first.
        var port = OsUser.FreeLoopbackPort();
        (exit, output) = await MonitorProcess.RunCliAsync("run", "--config", await group.WriteExtraConfigAsync(MonitorGroup.Name(follower), port));
        Assert.Equal(1, exit);
        Assert.Contains($"monitor_name {MonitorGroup.Name(follower)} is already used by the running monitor at https://127.0.0.1:", output, StringComparison.Ordinal);

        var clock = Stopwatch.StartNew();
        await group.KillMonitorAsync(leader);
        var next = await group.WaitForLeaderAsync(LeaseTtl * 4, notIndex: leader);
        Assert.True(clock.Elapsed < LeaseTtl + TimeSpan.FromSeconds(4), $"a new leader after {clock.Elapsed.TotalSeconds:0.0}s (lease_ttl {LeaseTtl.TotalSeconds}s)");
        await group[next].WaitForOutputAsync("is the leader now");
        await Wait.UntilAsync(async () => await group[next].MetricAsync("failoverwatch_monitors{cluster=\"test\"}") == 2, TimeSpan.FromSeconds(10), "two monitors left");

        // The new leader hangs (SIGSTOP) past its lease; the last monitor takes over and pauses; the hung one resumes
        // believing nothing happened, and neither leads nor undoes the pause.
        var last = 3 - leader - next;
        await group[next].SignalAsync("STOP");
        await group.WaitForLeaderAsync(LeaseTtl * 5, notIndex: next, among: [last]);
        Assert.Equal(HttpStatusCode.OK, (await group[last].PostAsync("pause", group.Cluster.AdminToken)).StatusCode);
        await group[next].SignalAsync("CONT");
        await Wait.UntilAsync(() => group[next].Output.Contains($"Monitor {MonitorGroup.Name(next)} is no longer the leader", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "the resumed monitor knows it lost the lead");
        await group.WaitForLeaderAsync(LeaseTtl * 3, notIndex: next);
        // The gauge is set at the end of the resumed monitor's tick, after it logged the loss.
        await Wait.UntilAsync(async () => await group[next].MetricAsync("failoverwatch_is_leader{cluster=\"test\"}") == 0, TimeSpan.FromSeconds(10), "the resumed monitor's is_leader gauge at 0");
        Assert.True((await group.StateAsync()).Paused);

        // A renewal whose key never comes is refused, with a warning, and the last good certificate is still served.
        static int Refusals(MonitorProcess monitor) => monitor.Output.Split("does not load, so the previous one stays in use").Length - 1;
        var refusals = Refusals(group[last]);
        var served = await TestCertificates.ServedAsync(group[last].BaseAddress);
        await certificates.BreakAsync();
        await Wait.UntilAsync(async () => await TestCertificates.ServedAsync(group[last].BaseAddress) == served && Refusals(group[last]) > refusals, TimeSpan.FromSeconds(20), "the broken renewal refused");
    }

    [Fact]
    public async Task a_hung_primary_fails_over_in_seconds_even_at_the_default_wal_receiver_timeout()
    {
        // SIGSTOP: pg2's WAL receiver says "streaming" for 60 s; one monitor alone would wait that long.
        await using var group = await MonitorGroup.StartAsync(Fast, walReceiverTimeout: "60s");
        var leader = await group.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        await FailoverTests.WaitForPrimaryAsync(group[leader], "pg1");

        var clock = Stopwatch.StartNew();
        await group.Cluster.Pair.Primary.SignalServerAsync("STOP", CancellationToken.None);
        await FailoverTests.WaitForWritableAsync(group.Cluster.Pair.Standby, TimeSpan.FromSeconds(30));
        // Three failed probes a second apart, one probe_timeout, the majority's votes and the promotion: about 6 s.
        // 12 s leaves room for a loaded machine yet still fails a slide towards the 60 s wal_receiver_timeout.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"failover took {clock.Elapsed.TotalSeconds:0.0}s");
        Console.WriteLine($"hung primary failed over in {clock.Elapsed.TotalSeconds:0.0}s");

        await group[leader].WaitForOutputAsync("live monitors see it down");
        await Wait.UntilAsync(() => group.Cluster.Marker("fenced-pg1") is not null, TimeSpan.FromSeconds(15), "hung primary fenced");
        await Wait.UntilAsync(async () => (await group.StateAsync()).Primary == "pg2", TimeSpan.FromSeconds(15), "pg2 recorded in etcd");
        Assert.Single((await group.StateAsync()).History, h => h.Result == "promoted");
        Assert.Empty(Directory.GetFiles(group.Cluster.Pair.DirectoryPath, "*state.json"));

        // The incident is in its own etcd key, not in the state value; every monitor and the CLI read it from etcd.
        Assert.Empty((await group.StateAsync()).Incidents);
        for (var i = 0; i < group.Count; i++)
        {
            var monitor = group[i];
            await Wait.UntilAsync(
                async () => (await monitor.IncidentsAsync()).Any(incident => incident.GetProperty("kind").GetString() == "failover"), TimeSpan.FromSeconds(15), $"the failover incident shown by monitor {i}");
        }

        var (exit, output) = await MonitorProcess.RunCliAsync("incidents", "--config", group.ConfigPath((leader + 1) % group.Count));
        Assert.True(exit == 0, output);
        Assert.Contains("-failover", output, StringComparison.Ordinal);

        // explain, through another monitor's configuration, replays the failover with the votes the leader decided
        // with: promoted as recorded, not "held" as one monitor whose standby still says streaming.
        var id = (await group[leader].IncidentsAsync()).First(i => i.GetProperty("kind").GetString() == "failover").GetProperty("id").GetString()!;
        (exit, output) = await MonitorProcess.RunCliAsync("explain", "--config", group.ConfigPath((leader + 1) % group.Count), id);
        Assert.True(exit == 0, output);
        Assert.Contains("live monitors see it down", output, StringComparison.Ordinal);
        Assert.DoesNotContain("recorded then", output, StringComparison.Ordinal);

        // status reads the shared state from etcd: the new primary and the leader, whichever monitor's configuration.
        (exit, output) = await MonitorProcess.RunCliAsync("status", "--config", group.ConfigPath((leader + 2) % group.Count));
        Assert.True(exit == 0, output);
        Assert.Contains($"primary pg2; leader {MonitorGroup.Name(leader)}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_monitor_cut_off_holds_etcd_without_quorum_holds_everything_and_quorum_back_fails_over()
    {
        await using var group = await MonitorGroup.StartAsync(Fast);
        var leader = await group.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        await FailoverTests.WaitForPrimaryAsync(group[leader], "pg1");

        // The leader alone loses the primary: the other two still see it, so no failover.
        group.RelayOf(leader).Cut();
        await group[leader].WaitForMetricAtLeastAsync("failoverwatch_failovers_held_total{cluster=\"test\",reason=\"no_quorum\"}", 1, TimeSpan.FromSeconds(20), "held for want of a majority");
        await Wait.HoldsAsync(
            async () => await group.Cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None),
            TimeSpan.FromSeconds(4),
            "pg2 stays a standby while only one monitor is cut off");
        await group[leader].WaitForOutputAsync("only 1 of 3 live monitors see it down");
        group.RelayOf(leader).Restore();

        // etcd loses quorum, then the primary dies: nothing is decided, but every monitor goes on serving.
        await group.Etcd.PauseMemberAsync(1);
        await group.Etcd.PauseMemberAsync(2);
        foreach (var monitor in group.Running())
        {
            await Wait.UntilAsync(async () => await monitor.MetricAsync("failoverwatch_coordination_up{cluster=\"test\"}") == 0, TimeSpan.FromSeconds(20), "coordination_up 0");
        }

        await group.Cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await Wait.HoldsAsync(
            async () => await group.Cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None),
            TimeSpan.FromSeconds(8),
            "no failover while etcd has no quorum");
        foreach (var monitor in group.Running())
        {
            Assert.Equal(0, await monitor.MetricAsync("failoverwatch_node_up{cluster=\"test\",node=\"pg1\"}"));
            Assert.Equal(0, await monitor.MetricAsync("failoverwatch_is_leader{cluster=\"test\"}"));
            Assert.Equal(JsonValueKind.Null, (await monitor.StatusAsync()).GetProperty("leader").ValueKind);
            await monitor.WaitForOutputAsync("etcd is not answering with quorum");
        }

        await group.Etcd.ResumeMemberAsync(1);
        await group.Etcd.ResumeMemberAsync(2);

        // Through the group, so a time-out shows what every monitor printed (CI saw this wait fail once).
        await group.UntilAsync(
            async () => !await group.Cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None),
            TimeSpan.FromSeconds(40),
            "pg2 promoted once etcd has quorum again");
        await FailoverTests.WaitForWritableAsync(group.Cluster.Pair.Standby, TimeSpan.FromSeconds(40));
        await Wait.UntilAsync(async () => (await group.StateAsync()).Primary == "pg2", TimeSpan.FromSeconds(15), "pg2 recorded in etcd");
        Assert.Single((await group.StateAsync()).History, h => h.Result == "promoted");
    }

    [Fact]
    public async Task both_followers_cut_off_from_a_primary_the_leader_reaches_make_the_quorum_switch_over_losing_nothing()
    {
        await using var group = await MonitorGroup.StartAsync(Fast);
        var leader = await group.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        await FailoverTests.WaitForPrimaryAsync(group[leader], "pg1");
        await group.Cluster.Pair.Primary.ExecuteAsync(WriteBeforeSwitchover, CancellationToken.None);

        // The clients' side (both other monitors) loses the primary; the leader still reaches it.
        foreach (var follower in Enumerable.Range(0, 3).Where(i => i != leader))
        {
            group.RelayOf(follower).Cut();
        }

        await AssertSwitchedOverAsync(group, "pg2 promoted by the quorum's switchover");
        await group[leader].WaitForOutputAsync("the quorum decides");
    }

    [Fact]
    public async Task a_leader_killed_after_stopping_the_primary_in_a_switchover_leaves_it_to_the_next_which_finishes_it()
    {
        // pg1's stop_command stops it, says so, then hangs: the leader is killed while it waits.
        await using var group = await MonitorGroup.StartAsync(Fast, pg1StopCommand: c => $"{TestCluster.StopCommand(c.Pair.Primary, "fast")} && touch {c.File("stopped-pg1")} && sleep 20");
        var leader = await group.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        await FailoverTests.WaitForPrimaryAsync(group[leader], "pg1");
        // A switchover needs a recorded primary, which etcd gets a round after /status names it (CI was refused once).
        await group.UntilAsync(async () => (await group.StateAsync()).Primary == "pg1", TimeSpan.FromSeconds(20), "pg1 recorded in etcd");
        await group.Cluster.Pair.Primary.ExecuteAsync(WriteBeforeSwitchover, CancellationToken.None);

        var request = group[leader].PostAsync("switchover?to=pg2", group.Cluster.AdminToken);
        await group.UntilAsync(
            async () => File.Exists(group.Cluster.File("stopped-pg1"))
                || (request.IsCompleted ? throw new InvalidOperationException($"the switchover answered before pg1 stopped: {(int)(await request).StatusCode} {await (await request).Content.ReadAsStringAsync()}") : false),
            TimeSpan.FromSeconds(60),
            "pg1 stopped by the switchover");
        await group.KillMonitorAsync(leader);
        await Assert.ThrowsAnyAsync<Exception>(() => request);

        await AssertSwitchedOverAsync(group, "pg2 promoted by the next leader");
        var next = await group.WaitForLeaderAsync(LeaseTtl * 4, notIndex: leader);
        await group[next].WaitForOutputAsync("finishing the switchover from pg1 to pg2");
    }

    [Fact]
    public async Task a_leader_killed_in_the_middle_of_a_failover_is_finished_by_the_next_never_repeated()
    {
        // The first fence of pg1 (already dead) hangs: the leader is killed while its failover is recorded as under way.
        await using var group = await MonitorGroup.StartAsync(Fast, pg1FenceCommand: c => $"if [ ! -f {c.File("fence-hanging")} ]; then touch {c.File("fence-hanging")}; sleep 15; fi");
        var hanging = group.Cluster.File("fence-hanging");
        var leader = await group.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        await FailoverTests.WaitForPrimaryAsync(group[leader], "pg1");

        // /status names the writable node at once; the leader records it in etcd a round later. Killed before
        // that, pg1 is no recorded primary and nothing fails over (CI saw it once): wait for the record.
        await group.UntilAsync(async () => (await group.StateAsync()).Primary == "pg1", TimeSpan.FromSeconds(20), "pg1 recorded in etcd");

        await group.Cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await group.UntilAsync(async () => (await group.StateAsync()).InProgress is not null && File.Exists(hanging), TimeSpan.FromSeconds(30), "the failover under way");
        await group.KillMonitorAsync(leader);

        var next = await group.WaitForLeaderAsync(LeaseTtl * 5, notIndex: leader);
        await FailoverTests.WaitForWritableAsync(group.Cluster.Pair.Standby, TimeSpan.FromSeconds(20));
        await group.UntilAsync(async () => (await group.StateAsync()) is { InProgress: null, Primary: "pg2" }, TimeSpan.FromSeconds(30), "the next leader finished the failover");
        await group[next].WaitForOutputAsync("was under way");
        Assert.Single((await group.StateAsync()).History, h => h.Result == "promoted");
        Assert.Equal(2, await group.Cluster.Pair.Standby.QueryScalarAsync<int>("SELECT timeline_id FROM pg_control_checkpoint()", CancellationToken.None));
    }

    [Fact]
    public async Task a_first_start_whose_leader_never_saw_the_primary_and_dies_with_it_still_fails_over()
    {
        // A first start on a fresh etcd prefix where no leader can record pg1 by its own sight: fw1 leads, its relay to
        // pg1 cut, and fw2 and fw3 see pg1 writable. Then fw1 and pg1 are killed together.
        await using var group = await MonitorGroup.StartAsync(Fast);
        for (var i = 0; i < group.Count; i++)
        {
            await group.KillMonitorAsync(i);
        }

        using (var etcd = new dotnet_etcd.EtcdClient(group.Etcd.ClientUrls[0]))
        {
            await etcd.DeleteRangeAsync("/failoverwatch/test/");
        }

        group.RelayOf(0).Cut();
        await group.StartMonitorAsync(0);
        Assert.Equal(0, await group.WaitForLeaderAsync(TimeSpan.FromSeconds(30)));
        await Task.WhenAll(group.StartMonitorAsync(1), group.StartMonitorAsync(2));
        await Task.WhenAll(FailoverTests.WaitForPrimaryAsync(group[1], "pg1"), FailoverTests.WaitForPrimaryAsync(group[2], "pg1"));
        Assert.Equal(0, await group.WaitForLeaderAsync(TimeSpan.FromSeconds(30)));
        var recorded = (await group.StateAsync()).Primary;

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(group.KillMonitorAsync(0), group.Cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None));

        // fw1 recorded pg1 on the others' word, or the next leader does after lease_ttl: either way pg1 is failed over.
        await group.UntilAsync(
            async () => !await group.Cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None),
            TimeSpan.FromSeconds(40),
            $"pg2 promoted after the leader and pg1 died together (etcd recorded {recorded ?? "no primary"} then)");
        Console.WriteLine($"leader and primary killed at a first start (recorded then: {recorded ?? "none"}): failed over in {clock.Elapsed.TotalSeconds:0.0}s");
        await Wait.UntilAsync(async () => (await group.StateAsync()).Primary == "pg2", TimeSpan.FromSeconds(15), "pg2 recorded in etcd");
        Assert.Single((await group.StateAsync()).History, h => h is { From: "pg1", To: "pg2", Result: "promoted" });
    }

    [Fact]
    public async Task a_monitor_whose_etcd_does_not_answer_at_start_runs_probes_serves_and_says_so()
    {
        await using var cluster = await TestCluster.StartAsync(Fast);
        var closed = OsUser.FreeLoopbackPort();
        await File.AppendAllTextAsync(cluster.ConfigPath, $"coordination:\n  monitor_name: lonely\n  etcd:\n    endpoints: [\"http://127.0.0.1:{closed}\"]\n    lease_ttl: 3s\n");
        await using var monitor = await MonitorProcess.StartAsync(cluster);

        await Wait.UntilAsync(() => monitor.Output.Contains("etcd is not answering with quorum", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the monitor says etcd does not answer");
        await monitor.WaitForMetricAtLeastAsync("failoverwatch_node_up{cluster=\"test\",node=\"pg1\"}", 1, TimeSpan.FromSeconds(10), "probes go on");
        Assert.Equal(0, await monitor.MetricAsync("failoverwatch_coordination_up{cluster=\"test\"}"));
        Assert.Equal(0, await monitor.MetricAsync("failoverwatch_is_leader{cluster=\"test\"}"));
        var status = await monitor.StatusAsync();
        Assert.Equal("lonely", status.GetProperty("monitor_name").GetString());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("leader").ValueKind);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await monitor.PostAsync("pause", cluster.AdminToken)).StatusCode);
        Assert.False(monitor.HasExited);
    }

    [Fact]
    public async Task a_wrong_etcd_password_is_logged_as_such_and_never_shown()
    {
        await using var etcd = await LocalEtcdCluster.StartAsync();
        using (var admin = new dotnet_etcd.EtcdClient(etcd.ClientUrls[0]))
        {
            await admin.RoleAddAsync(new Etcdserverpb.AuthRoleAddRequest { Name = "root" });
            await admin.UserAddAsync(new Etcdserverpb.AuthUserAddRequest { Name = "root", Password = "right-password" });
            await admin.UserGrantRoleAsync(new Etcdserverpb.AuthUserGrantRoleRequest { User = "root", Role = "root" });
            await admin.AuthEnableAsync(new Etcdserverpb.AuthEnableRequest());
        }

        await using var cluster = await TestCluster.StartAsync(Fast);
        await File.WriteAllTextAsync(cluster.File("etcd-password"), "wrong-password\n");

        // The nodes' password too (the pair trusts local logins, so it is only carried): in no log, no command line.
        await File.WriteAllTextAsync(cluster.File("pg-password"), "pg-password-never-shown\n");
        var config = await File.ReadAllTextAsync(cluster.ConfigPath);
        await File.WriteAllTextAsync(cluster.ConfigPath, config.Replace("      user: postgres\n", $"      user: postgres\n      password_file: {cluster.File("pg-password")}\n", StringComparison.Ordinal));
        await File.AppendAllTextAsync(cluster.ConfigPath, $"coordination:\n  monitor_name: fw1\n  etcd:\n    endpoints: {etcd.EndpointsYaml}\n    username: root\n    password_file: {cluster.File("etcd-password")}\n");
        var argv = ArgvWatch.Start();
        await using var monitor = await MonitorProcess.StartAsync(cluster);

        await Wait.UntilAsync(() => monitor.Output.Contains("etcd refused this monitor's credentials", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the refused credentials logged");
        await argv.AssertNoSecretAsync(["wrong-password", "pg-password-never-shown"], [cluster.ConfigPath]);
        Assert.DoesNotContain("pg-password-never-shown", monitor.Output, StringComparison.Ordinal);
        Assert.Equal(0, await monitor.MetricAsync("failoverwatch_coordination_up{cluster=\"test\"}"));
        Assert.DoesNotContain("wrong-password", monitor.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", await monitor.MetricsAsync(), StringComparison.Ordinal);
    }

    /// <summary>pg2 promoted by a switchover, never a failover: the row written before it is there, it is recorded once, pg1 stopped rather than fenced.</summary>
    private static async Task AssertSwitchedOverAsync(MonitorGroup group, string what)
    {
        var standby = group.Cluster.Pair.Standby;
        await group.UntilAsync(async () => !await standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None), TimeSpan.FromSeconds(60), what);
        Assert.Equal(7, await standby.QueryScalarAsync<int>("SELECT id FROM written_before", CancellationToken.None));
        await Wait.UntilAsync(async () => (await group.StateAsync()).Primary == "pg2", TimeSpan.FromSeconds(15), "pg2 recorded in etcd");
        var record = Assert.Single((await group.StateAsync()).History);
        Assert.Equal(("pg1", "pg2", "switchover"), (record.From, record.To, record.Reason));
        Assert.Null(group.Cluster.Marker("fenced-pg1"));
    }
}
