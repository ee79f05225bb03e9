using System.Globalization;
using System.Net;
using System.Text.Json;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;
using FailoverWatch.Processes;
using static FailoverWatch.IntegrationTests.FailoverTests;

namespace FailoverWatch.IntegrationTests;

/// <summary>
/// Ways to two primaries, no primary, or a monitor that stops deciding (issue 9), each caused for real against the
/// real executable and real servers: a promotion made by hand, a slow promotion across a monitor restart, a hook that
/// hangs and leaves a child holding its pipes, a fence that fails before it works, a switchover whose client goes
/// away, a primary whose position was never seen, a second monitor on the same state file.
/// </summary>
public sealed class FailoverHoleTests
{
    [Fact]
    public async Task a_standby_promoted_by_hand_while_the_primary_is_dead_is_adopted_fenced_and_hooked_not_held()
    {
        // Five failed probes before the monitor would act: the promotion by hand lands first.
        await using var cluster = await TestCluster.StartAsync("probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 5");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");

        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await cluster.Pair.Standby.ExecuteAsync("SELECT pg_promote()", CancellationToken.None);

        await Wait.UntilAsync(async () => (await monitor.StatusAsync()).GetProperty("primary").GetString() == "pg2", TimeSpan.FromSeconds(20), "pg2 adopted as primary");
        // The adoption starts the fence and on_failover side by side: wait for both.
        await Wait.UntilAsync(() => cluster.Marker("hook-failover") is not null && cluster.Marker("fenced-pg1") is not null, TimeSpan.FromSeconds(20), "on_failover and fence ran");
        Assert.Equal("adopted old=pg1 new=pg2\n", cluster.Marker("hook-failover"));
        Assert.Contains("adopted old=pg1 new=pg2", cluster.Marker("fenced-pg1"), StringComparison.Ordinal);
        Assert.Equal(0, await monitor.MetricAsync("failoverwatch_failovers_total{cluster=\"test\",result=\"promoted\"}"));
        var history = JsonDocument.Parse(await File.ReadAllTextAsync(cluster.StatePath)).RootElement.GetProperty("history");
        Assert.Equal("adopted", history.EnumerateArray().Last().GetProperty("result").GetString());
        Assert.DoesNotContain("no_standby", monitor.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_slow_promotion_is_watched_across_a_monitor_restart_and_finished_once_while_haproxy_sends_no_write_to_the_returning_old_primary()
    {
        // pg1's fence fails: once back writable it stays so, a trap for any client routed to it.
        await using var cluster = await TestCluster.StartAsync(Fast, pg1FenceCommand: c => $"{c.RecordTo("fenced-pg1")}; false");
        var (primary, standby) = (cluster.Pair.Primary, cluster.Pair.Standby);
        var (writePort, readPort) = (OsUser.FreeLoopbackPort(), OsUser.FreeLoopbackPort());
        var haproxyConfig = cluster.File("haproxy.cfg");
        await File.WriteAllTextAsync(haproxyConfig, Routing.ClientRoutingTests.DocumentedHaproxyConfig(cluster, writePort, readPort));
        await using var haproxy = await ForegroundServer.StartAsync("haproxy", ["-db", "-f", haproxyConfig], writePort);
        await primary.ExecuteAsync(RoutedWriter.CreateTable, CancellationToken.None);
        await Wait.UntilAsync(
            async () => await standby.QueryScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE tablename = 'routed'", CancellationToken.None) == 1,
            TimeSpan.FromSeconds(30),
            "pg2 replays the table before its startup process stops");

        // Stopped, the standby's startup process takes the promotion request but cannot act on it.
        var startup = await StartupProcess.OfAsync(standby);
        var first = await MonitorProcess.StartAsync(cluster);
        try
        {
            await WaitForPrimaryAsync(first, "pg1");
            await startup.StopAsync();
            await primary.SignalAsync("KILL", CancellationToken.None);
            await Wait.UntilAsync(() => first.Output.Contains("pg_promote sent to pg2; waiting up to 60s", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "pg_promote sent");

            // The promotion hangs, the monitor does not: rounds go on and /healthz answers.
            var probed = await LastProbeAsync(first, "pg2");
            await Wait.UntilAsync(async () => await LastProbeAsync(first, "pg2") > probed, TimeSpan.FromSeconds(20), "rounds go on during the promotion");
            Assert.Equal(HttpStatusCode.OK, (await first.HealthAsync()).StatusCode);
            Assert.True(await standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
            Assert.Contains("\"promote_sent_at\": \"", await File.ReadAllTextAsync(cluster.StatePath), StringComparison.Ordinal);
            await first.KillAsync();
        }
        catch
        {
            await startup.ResumeAsync();
            throw;
        }
        finally
        {
            await first.DisposeAsync();
        }

        try
        {
            // Between pg_promote and the record of pg2, the old primary is back writable, and a client writes through HAProxy.
            await Wait.UntilAsync(() => primary.PostmasterPid is null, TimeSpan.FromSeconds(20), "old postmaster gone");
            await primary.StartAsync(CancellationToken.None);
            Assert.False(await primary.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
            await using var writer = RoutedWriter.Start(writePort);
            await using var second = await MonitorProcess.StartAsync(cluster);
            await Wait.UntilAsync(() => second.Output.Contains("pg_promote was sent to pg2", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the restarted monitor watches the promotion");

            // pg1 is the recorded primary and writable, but the failover moves away from it: HAProxy checks it (every
            // 200 ms) and sends it nothing.
            await Wait.HoldsAsync(
                async () => (await second.GetAsync("primary/pg1")).StatusCode == HttpStatusCode.ServiceUnavailable && writer.Acknowledged.IsEmpty,
                TimeSpan.FromSeconds(3),
                "/primary/pg1 503 and no write acknowledged while pg2 still recovers");
            await startup.ResumeAsync();

            await WaitForWritableAsync(standby, TimeSpan.FromSeconds(30));
            await Wait.UntilAsync(() => writer.Acknowledged.Count >= 20, TimeSpan.FromSeconds(20), "writes acknowledged through HAProxy once pg2 is writable");

            // Finished although pg1's fence keeps failing: pg2 recorded, on_failover run. (The split-brain incident's
            // snapshot of the state holds the failover as under way, so the state's own field is read.)
            await Wait.UntilAsync(
                () => JsonDocument.Parse(File.ReadAllText(cluster.StatePath)).RootElement.GetProperty("in_progress").ValueKind == JsonValueKind.Null,
                TimeSpan.FromSeconds(30),
                "failover finished");
            await Wait.UntilAsync(() => cluster.Marker("hook-failover") is not null, TimeSpan.FromSeconds(10), "on_failover ran");
            await writer.DisposeAsync();

            // Every acknowledged write is on pg2, none on pg1 (still writable: its fence fails).
            Assert.NotNull(primary.PostmasterPid);
            var (onPrimary, onStandby) = (await RoutedWriter.IdsOnAsync(primary), await RoutedWriter.IdsOnAsync(standby));
            Assert.Empty(onPrimary);
            Assert.All(writer.Acknowledged, w => Assert.Equal(standby.Port, w.Value));
            Assert.Subset(onStandby, writer.Acknowledged.Keys.ToHashSet());

            var state = JsonDocument.Parse(await File.ReadAllTextAsync(cluster.StatePath)).RootElement;
            Assert.Equal("pg2", state.GetProperty("primary").GetString());
            Assert.Equal(["promoted"], state.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("result").GetString()));
            Assert.DoesNotContain("Failing over", second.Output, StringComparison.Ordinal);

            // A round whose probe of pg1 timed out (a loaded machine) finishes the failover without a split brain; the next fences it.
            await Wait.UntilAsync(() => cluster.Marker("fenced-pg1")!.Contains("split_brain", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "pg1 fenced as an intruder");
        }
        finally
        {
            await startup.ResumeAsync();
        }
    }

    [Fact]
    public async Task a_hook_that_hangs_holding_its_pipes_is_killed_at_the_timeout_and_a_failing_fence_is_retried_until_it_works()
    {
        await using var cluster = await TestCluster.StartAsync(
            Fast,
            onFailoverHook: c => $"{c.RecordTo("hook-failover")}; (sleep 600 & echo $! > {c.File("hook-child")}); sleep 600",
            pg1FenceCommand: c => $"test -f {c.File("fence-works")} && {c.RecordTo("fenced-pg1")} && {TestCluster.StopCommand(c.Pair.Primary)}");
        var child = cluster.File("hook-child");
        try
        {
            await using var monitor = await MonitorProcess.StartAsync(cluster);
            await WaitForPrimaryAsync(monitor, "pg1");
            await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
            await WaitForWritableAsync(cluster.Pair.Standby, TimeSpan.FromSeconds(20));
            await Wait.UntilAsync(() => File.Exists(child), TimeSpan.FromSeconds(30), "the hook started its child");

            // hooks.timeout is 10s: /healthz answers throughout, then the hook's whole group is killed.
            await Wait.UntilAsync(
                async () => (await monitor.HealthAsync()).StatusCode == HttpStatusCode.OK
                    ? await monitor.MetricAsync("failoverwatch_command_failures_total{cluster=\"test\",command=\"on_failover\"}") >= 1
                    : throw new InvalidOperationException("/healthz failed while the hook hung"),
                TimeSpan.FromSeconds(30),
                "the hanging hook timed out and was counted");
            await Wait.UntilAsync(() => !Directory.Exists("/proc/" + File.ReadAllText(child).Trim()), TimeSpan.FromSeconds(10), "the hook's background child killed with it");
            await monitor.WaitForOutputAsync("on_failover for pg2 failed (timed out)");

            // The old primary returns writable; its fence fails until the fence can work, retried each round.
            await Wait.UntilAsync(() => cluster.Pair.Primary.PostmasterPid is null, TimeSpan.FromSeconds(20), "old postmaster gone");
            await cluster.Pair.Primary.StartAsync(CancellationToken.None);
            await monitor.WaitForMetricAtLeastAsync("failoverwatch_command_failures_total{cluster=\"test\",command=\"fence\"}", 3, TimeSpan.FromSeconds(20), "the fence failed at the failover and twice in the split brain");
            Assert.NotNull(cluster.Pair.Primary.PostmasterPid);
            await File.WriteAllTextAsync(cluster.File("fence-works"), "");

            await Wait.UntilAsync(() => cluster.Pair.Primary.PostmasterPid is null, TimeSpan.FromSeconds(20), "returning primary fenced once the fence works");
            Assert.Equal("split_brain old=pg1 new=pg2\n", cluster.Marker("fenced-pg1"));
            Assert.Equal(1, await monitor.MetricAsync("failoverwatch_split_brain_total{cluster=\"test\"}"));
            Assert.Equal("split_brain old=pg1 new=pg2\n", cluster.Marker("hook-split-brain"));
            Assert.Equal("pg2", (await monitor.StatusAsync()).GetProperty("primary").GetString());
        }
        finally
        {
            if (File.Exists(child) && int.TryParse(File.ReadAllText(child), CultureInfo.InvariantCulture, out var pid))
            {
                await ExternalProcess.RunAsync("kill", ["-KILL", pid.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10), CancellationToken.None);
            }
        }
    }

    [Fact]
    public async Task split_brain_is_resolved_while_a_failover_to_a_node_that_never_answers_is_still_recorded_as_under_way()
    {
        // A monitor died mid-failover to pg3, and pg3 has not answered since: the failover stays under way.
        await using var cluster = await TestCluster.StartAsync(Fast);
        var config = await File.ReadAllTextAsync(cluster.ConfigPath);
        await File.WriteAllTextAsync(cluster.ConfigPath, config.Replace("\nmonitor:", "\n    - { name: pg3, host: 127.0.0.1, port: 1 }\nmonitor:", StringComparison.Ordinal));
        await File.WriteAllTextAsync(cluster.StatePath, """{ "primary": "pg1", "in_progress": { "from": "pg1", "to": "pg3", "started_at": "2026-01-01T00:00:00Z" } }""");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await Wait.UntilAsync(() => monitor.Output.Contains("waiting to see pg3", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the failover to pg3 waits");

        // pg1 is writable and recorded, but the failover under way moves away from it: never routed to.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await monitor.GetAsync("primary/pg1")).StatusCode);
        Assert.Equal(JsonValueKind.Null, (await monitor.StatusAsync()).GetProperty("primary").ValueKind);

        // Not waiting for the promotion to finish: the monitor may fence pg2 (stop it) before pg_promote() returns.
        await cluster.Pair.Standby.ExecuteAsync("SELECT pg_promote(wait => false)", CancellationToken.None);

        // The hook and the fence run side by side: wait for both.
        await Wait.UntilAsync(() => cluster.Marker("hook-split-brain") is not null && cluster.Marker("fenced-pg2") is not null, TimeSpan.FromSeconds(20), "split-brain hook and fence ran");
        Assert.Equal("split_brain old=pg2 new=pg1\n", cluster.Marker("fenced-pg2"));
        await Wait.UntilAsync(() => cluster.Pair.Standby.PostmasterPid is null, TimeSpan.FromSeconds(20), "pg2 fenced (stopped)");
        Assert.False(await cluster.Pair.Primary.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
    }

    [Fact]
    public async Task a_returning_old_primary_is_fenced_within_a_round_while_on_failover_still_runs()
    {
        await using var cluster = await TestCluster.StartAsync(
            Fast,
            // Long enough for the assertions below to come before the hook ends, however loaded the machine.
            onFailoverHook: c => $"{c.RecordTo("hook-failover")}; sleep 90; {c.RecordTo("hook-done")}",
            pg1FenceCommand: c => $"{c.RecordTo("fenced-pg1")}; {TestCluster.StopCommand(c.Pair.Primary)}");
        var config = await File.ReadAllTextAsync(cluster.ConfigPath);
        await File.WriteAllTextAsync(cluster.ConfigPath, config.Replace("  timeout: 10s", "  timeout: 120s", StringComparison.Ordinal));
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");

        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await Wait.UntilAsync(() => cluster.Marker("hook-failover") is not null, TimeSpan.FromSeconds(30), "on_failover started");
        await Wait.UntilAsync(() => cluster.Marker("fenced-pg1") is not null && cluster.Pair.Primary.PostmasterPid is null, TimeSpan.FromSeconds(20), "the failover's fence of pg1 done");

        // pg1 comes back writable on its old timeline while the hook sleeps: its fence starts in the next round.
        await cluster.Pair.Primary.StartAsync(CancellationToken.None);
        var back = System.Diagnostics.Stopwatch.StartNew();
        await Wait.UntilAsync(() => cluster.Marker("fenced-pg1")!.Contains("split_brain", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "pg1 fenced as an intruder");
        var fencedAfter = back.Elapsed;
        Assert.Null(cluster.Marker("hook-done"));
        Assert.True(fencedAfter < TimeSpan.FromSeconds(5), $"the intruder's fence started {fencedAfter.TotalSeconds:0.0}s after it came back");
        await Wait.UntilAsync(() => cluster.Pair.Primary.PostmasterPid is null, TimeSpan.FromSeconds(20), "pg1 stopped by its fence");
        Assert.Equal("pg2", (await monitor.StatusAsync()).GetProperty("primary").GetString());
        Console.WriteLine($"intruder fence started {fencedAfter.TotalMilliseconds:0} ms after it came back, during on_failover");
    }

    [Fact]
    public async Task a_switchover_goes_on_when_its_client_goes_away_after_the_primary_is_stopped()
    {
        await using var cluster = await TestCluster.StartAsync(
            "probe_interval: 500ms\nprobe_timeout: 1s",
            pg1StopCommand: c => $"{TestCluster.StopCommand(c.Pair.Primary, "fast")}; touch {c.File("stopped")}; sleep 2");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");

        using var client = new HttpClient();
        using var cancel = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(monitor.BaseAddress, "switchover?to=pg2"));
        request.Headers.Authorization = new("Bearer", cluster.AdminToken);
        var call = client.SendAsync(request, cancel.Token);
        await Wait.UntilAsync(() => File.Exists(cluster.File("stopped")), TimeSpan.FromSeconds(60), "stop_command ran");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        await WaitForWritableAsync(cluster.Pair.Standby, TimeSpan.FromSeconds(60));
        await Wait.UntilAsync(async () => (await monitor.StatusAsync()).GetProperty("primary").GetString() == "pg2", TimeSpan.FromSeconds(10), "pg2 recorded");
        await Wait.UntilAsync(() => cluster.Marker("hook-failover") is not null, TimeSpan.FromSeconds(10), "on_failover ran");
        Assert.Equal("switchover old=pg1 new=pg2\n", cluster.Marker("hook-failover"));
    }

    [Fact]
    public async Task a_primary_whose_position_was_never_seen_holds_the_failover_instead_of_counting_as_zero_lag()
    {
        // A state file naming the primary but no position (written by hand, or by an older monitor), and the primary dead.
        await using var cluster = await TestCluster.StartAsync(Fast);
        await File.WriteAllTextAsync(cluster.StatePath, """{ "primary": "pg1" }""");
        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await using var monitor = await MonitorProcess.StartAsync(cluster);

        await monitor.WaitForMetricAtLeastAsync("failoverwatch_failovers_held_total{cluster=\"test\",reason=\"unknown_position\"}", 2, TimeSpan.FromSeconds(20), "failover held: position unknown");
        await monitor.WaitForOutputAsync("last WAL position is unknown");
        Assert.True(await cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
        Assert.Equal(0, await monitor.MetricAsync("failoverwatch_failovers_total{cluster=\"test\",result=\"promoted\"}"));
    }

    [Fact]
    public async Task a_second_monitor_on_the_same_state_file_refuses_to_start_naming_the_holder_until_it_is_gone()
    {
        // No servers needed: the monitor runs (and holds its lock) whether or not its nodes answer.
        using var directory = new TempDirectory();
        var port = OsUser.FreeLoopbackPort();
        var config = directory.File("failoverwatch.yaml");
        await File.WriteAllTextAsync(config, $$"""
            cluster:
              name: test
              nodes:
                - { name: pg1, host: 127.0.0.1, port: 1 }
                - { name: pg2, host: 127.0.0.1, port: 2, fence_command: /bin/true }
            monitor:
              state_file: {{directory.File("state.json")}}
            http:
              listen: 127.0.0.1:{{port}}
            """);

        var (checkExit, checkOutput) = await MonitorProcess.RunCliAsync("check-config", "--config", config);
        Assert.True(checkExit == 0, checkOutput);
        Assert.Contains("warning: cluster.nodes[0].fence_command: missing while monitor.auto_failover is on", checkOutput, StringComparison.Ordinal);

        var first = await MonitorProcess.StartAsync(config, port);
        try
        {
            await first.WaitForOutputAsync("Configuration: cluster.nodes[0].fence_command: missing");
            var (exit, output) = await MonitorProcess.RunCliAsync("run", "--config", config);
            Assert.Equal(1, exit);
            Assert.Contains($"monitor.state_file: {directory.File("state.json")} is in use by another failoverwatch run (pid {first.Id} on host {Environment.MachineName}", output, StringComparison.Ordinal);

            // kill -9 leaves no stale lock: the kernel drops it with the process.
            await first.KillAsync();
        }
        finally
        {
            await first.DisposeAsync();
        }

        await using var second = await MonitorProcess.StartAsync(config, port);
        Assert.False(second.HasExited);
    }
}
