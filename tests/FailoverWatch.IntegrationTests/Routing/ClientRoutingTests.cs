using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;
using Xunit.Abstractions;

namespace FailoverWatch.IntegrationTests.Routing;

/// <summary>
/// Clients follow the primary through a real HAProxy (the configuration of docs/haproxy.md) and a real PgBouncer
/// (repointed by contrib/failoverwatch-pgbouncer as the on_failover hook), in front of a real pair and the real monitor.
/// </summary>
public sealed partial class ClientRoutingTests(ITestOutputHelper output)
{
    private const string Fast = "probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 3";

    /// <summary>A fence that leaves the old primary alone, so it can come back writable and be a trap for clients.</summary>
    private static readonly Func<TestCluster, string> FenceThatDoesNothing = _ => "true";

    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(1);

    /// <summary>
    /// PgBouncer holds a client that connected while the old primary was down in its own login retries, and the
    /// probe gives up on it only after its 2 s connect timeout: the bound has to cover the probe, not just PgBouncer
    /// (measured here: +0.0 to +0.5 s after the reload, once +1.01 s under load).
    /// </summary>
    private static readonly TimeSpan PgBouncerSlack = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task haproxy_sends_clients_to_the_primary_then_to_the_new_one_and_never_to_a_returning_old_primary()
    {
        await using var cluster = await TestCluster.StartAsync(Fast, pg1FenceCommand: FenceThatDoesNothing);
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        var (writePort, readPort) = (OsUser.FreeLoopbackPort(), OsUser.FreeLoopbackPort());
        var config = cluster.File("haproxy.cfg");
        await File.WriteAllTextAsync(config, DocumentedHaproxyConfig(cluster, writePort, readPort));
        await using var haproxy = await ForegroundServer.StartAsync("haproxy", ["-db", "-f", config], writePort);
        var (pg1, pg2) = (cluster.Pair.Primary.Port, cluster.Pair.Standby.Port);

        await Wait.UntilAsync(async () => await ClientProbe.ReachedPortAsync(writePort) == pg1, TimeSpan.FromSeconds(20), "writes reach pg1 through HAProxy");
        await Wait.UntilAsync(async () => await ClientProbe.ReachedPortAsync(readPort) == pg2, TimeSpan.FromSeconds(20), "reads reach the standby pg2 through HAProxy");

        var (failover, reached) = await KillPrimaryAndTimeAsync(cluster, () => ClientProbe.ReachedPortAsync(writePort));
        output.WriteLine($"haproxy: failover {failover.TotalSeconds:0.00}s, clients on pg2 {reached.TotalSeconds:0.00}s after the kill");
        Assert.True(reached <= failover + Slack, $"clients reached pg2 {reached.TotalSeconds:0.00}s after the kill; the failover took {failover.TotalSeconds:0.00}s\n{haproxy.Output}");

        await ReturnOldPrimaryAndCheckNoClientReachesItAsync(cluster, monitor, () => ClientProbe.ReachedPortAsync(writePort));

        // The returning writable old primary is a split-brain incident, its fence and hook timed: closed (and saved) once both ended.
        var splitBrain = default(JsonElement);
        await Wait.UntilAsync(
            async () => (splitBrain = (await monitor.IncidentsAsync()).Last(i => i.GetProperty("kind").GetString() == "split_brain")).GetProperty("result").ValueKind == JsonValueKind.String,
            TimeSpan.FromSeconds(20),
            "the split-brain incident closed");
        Assert.Equal("pg1", splitBrain.GetProperty("from").GetString());
        Assert.Equal("pg2", splitBrain.GetProperty("to").GetString());
        // The fence and the hook run side by side (the fence never waits for the hook), so either may end first.
        var phases = splitBrain.GetProperty("phases").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Equal(["detected", "decided"], phases.Take(2));
        Assert.Equal(["fence", "hook"], phases.Skip(2).Order());
    }

    [Fact]
    public async Task pgbouncer_repointed_by_the_contrib_hook_sends_clients_to_the_new_primary()
    {
        using var directory = new TempDirectory();
        var port = OsUser.FreeLoopbackPort();
        var ini = directory.File("pgbouncer.ini");
        await using var cluster = await TestCluster.StartAsync(
            Fast,
            pg1FenceCommand: FenceThatDoesNothing,
            onFailoverHook: c => $"{RepositoryFiles.Path("contrib", "failoverwatch-pgbouncer")} --ini {ini} --admin 'host=127.0.0.1 port={port} user=postgres dbname=pgbouncer'"
                + $" --node pg1=127.0.0.1:{c.Pair.Primary.Port} --node pg2=127.0.0.1:{c.Pair.Standby.Port}");
        var (pg1, pg2) = (cluster.Pair.Primary.Port, cluster.Pair.Standby.Port);
        await using var monitor = await MonitorProcess.StartAsync(cluster);

        await File.WriteAllTextAsync(directory.File("userlist.txt"), "\"postgres\" \"\"\n");
        await File.WriteAllTextAsync(ini, string.Create(CultureInfo.InvariantCulture, $"""
            [databases]
            postgres = host=127.0.0.1 port={pg1} dbname=postgres

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {port}
            unix_socket_dir =
            auth_type = trust
            auth_file = {directory.File("userlist.txt")}
            admin_users = postgres
            pool_mode = session
            server_login_retry = 0.2
            logfile = {directory.File("pgbouncer.log")}

            """));
        OsUser.GiveToServerAccount(directory.Path);
        var (program, arguments) = OsUser.AsServerAccount("pgbouncer", [ini]);
        await using var pgbouncer = await ForegroundServer.StartAsync(program, arguments, port);

        await Wait.UntilAsync(async () => await ClientProbe.ReachedPortAsync(port) == pg1, TimeSpan.FromSeconds(20), "clients reach pg1 through PgBouncer");

        var (failover, reached) = await KillPrimaryAndTimeAsync(cluster, () => ClientProbe.ReachedPortAsync(port));
        output.WriteLine($"pgbouncer: failover {failover.TotalSeconds:0.00}s, clients on pg2 {reached.TotalSeconds:0.00}s after the kill");
        Assert.True(reached <= failover + PgBouncerSlack, $"clients reached pg2 {reached.TotalSeconds:0.00}s after the kill; the failover took {failover.TotalSeconds:0.00}s\n{monitor.Output}\n{await File.ReadAllTextAsync(directory.File("pgbouncer.log"))}");
        Assert.Contains($"port={pg2}", await File.ReadAllTextAsync(ini), StringComparison.Ordinal);

        await ReturnOldPrimaryAndCheckNoClientReachesItAsync(cluster, monitor, () => ClientProbe.ReachedPortAsync(port));
    }

    /// <summary>
    /// kill -9 of the primary, then two clocks from the kill: until the standby itself is writable (the failover
    /// time), and until a client through the proxy reaches it.
    /// </summary>
    private static async Task<(TimeSpan Failover, TimeSpan Reached)> KillPrimaryAndTimeAsync(TestCluster cluster, Func<Task<int?>> reach)
    {
        var pg2 = cluster.Pair.Standby.Port;
        await cluster.Pair.WaitForStreamingAsync();
        var clock = Stopwatch.StartNew();
        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        var failover = Task.Run(async () =>
        {
            await Wait.UntilAsync(
                async () => !await cluster.Pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None),
                TimeSpan.FromSeconds(30),
                "pg2 writable");
            return clock.Elapsed;
        });
        var reached = Task.Run(async () =>
        {
            await Wait.UntilAsync(async () => await reach() == pg2, TimeSpan.FromSeconds(40), "a client reaches pg2 through the proxy");
            return clock.Elapsed;
        });
        return (await failover, await reached);
    }

    /// <summary>The old primary starts again, writable (its fence does nothing): not one client connection may reach it.</summary>
    private static async Task ReturnOldPrimaryAndCheckNoClientReachesItAsync(TestCluster cluster, MonitorProcess monitor, Func<Task<int?>> reach)
    {
        var (pg1, pg2) = (cluster.Pair.Primary.Port, cluster.Pair.Standby.Port);
        await cluster.Pair.Primary.StartAsync(CancellationToken.None);
        Assert.False(await cluster.Pair.Primary.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
        await monitor.WaitForMetricAtLeastAsync("failoverwatch_primaries{cluster=\"test\"}", 2, TimeSpan.FromSeconds(15), "the monitor sees both writable");
        await Wait.HoldsAsync(
            async () => await reach() is { } port && port != pg1 ? port == pg2 : throw new InvalidOperationException($"a client reached {(await reach())?.ToString(CultureInfo.InvariantCulture) ?? "nothing"}, not pg2"),
            TimeSpan.FromSeconds(4),
            "every client reaches pg2, none the returning pg1");
    }

    /// <summary>The ```haproxy block of docs/haproxy.md, with this test's addresses and faster checks.</summary>
    internal static string DocumentedHaproxyConfig(TestCluster cluster, int writePort, int readPort)
    {
        var doc = File.ReadAllText(RepositoryFiles.Path("docs", "haproxy.md"));
        var config = HaproxyBlock().Match(doc).Groups[1].Value;
        var replacements = new Dictionary<string, string>
        {
            ["10.0.0.11:5432"] = $"127.0.0.1:{cluster.Pair.Primary.Port}",
            ["10.0.0.12:5432"] = $"127.0.0.1:{cluster.Pair.Standby.Port}",
            ["addr 10.0.0.5 port 9797"] = $"addr 127.0.0.1 port {cluster.HttpPort}",
            ["bind :5000"] = $"bind 127.0.0.1:{writePort}",
            ["bind :5001"] = $"bind 127.0.0.1:{readPort}",
            ["inter 1s"] = "inter 200ms",
        };
        foreach (var (from, to) in replacements)
        {
            Assert.Contains(from, config, StringComparison.Ordinal);
            config = config.Replace(from, to, StringComparison.Ordinal);
        }

        return config;
    }

    [GeneratedRegex("```haproxy\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex HaproxyBlock();
}
