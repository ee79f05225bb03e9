using System.Diagnostics;
using FailoverWatch.Configuration;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;
using FailoverWatch.Monitoring;

namespace FailoverWatch.IntegrationTests;

/// <summary>The prober against a real primary and streaming standby.</summary>
public sealed class ProbeTests
{
    // Generous where a probe must answer: a loaded machine can take over a second to connect. The tests of timing out set their own.
    private static readonly MonitorOptions Monitor = new() { ProbeTimeout = TimeSpan.FromSeconds(10) };

    private static NodeProber Prober(LocalPostgresServer server, MonitorOptions? monitor = null) =>
        new(new NodeOptions { Name = server.Name, Host = "127.0.0.1", Port = server.Port, User = "postgres" }, monitor ?? Monitor, TimeProvider.System);

    [Fact]
    public async Task roles_positions_and_streaming_are_reported()
    {
        await using var pair = await PostgresPair.StartAsync();
        var primary = await Prober(pair.Primary).ProbeAsync(CancellationToken.None);
        var standby = await Prober(pair.Standby).ProbeAsync(CancellationToken.None);

        Assert.True(primary.Reachable, primary.Failure?.ToString());
        Assert.Equal(NodeRole.Primary, primary.Role);
        Assert.True(primary.Writable);
        Assert.NotNull(primary.CurrentLsn);
        Assert.Equal(1, primary.Timeline);

        Assert.Equal(NodeRole.Standby, standby.Role);
        Assert.False(standby.Writable);
        Assert.True(standby.WalReceiver?.IsStreaming);
        Assert.Equal(1, standby.Timeline);
        Assert.NotNull(standby.ReceiveLsn);
    }

    [Fact]
    public async Task lag_grows_while_replay_is_paused_and_returns_to_zero_after_resume()
    {
        await using var pair = await PostgresPair.StartAsync();
        await pair.Primary.ExecuteAsync("CREATE TABLE t (id int, pad text)", CancellationToken.None);
        await WaitForLagAsync(pair, lag => lag == 0, "no lag before the pause");

        await pair.Standby.ExecuteAsync("SELECT pg_wal_replay_pause()", CancellationToken.None);
        await pair.Primary.ExecuteAsync("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g", CancellationToken.None);
        var paused = await WaitForLagAsync(pair, lag => lag > 1_000_000, "replay lag above 1 MB while paused, everything received", received: true);
        // The CREATE TABLE was replayed before the pause: its commit time is known, so the delay is, and grows.
        Assert.NotNull(paused.LagSeconds);
        Assert.True(paused.LagSeconds > 0, $"lag {paused.LagSeconds}s while paused");

        await pair.Standby.ExecuteAsync("SELECT pg_wal_replay_resume()", CancellationToken.None);
        var resumed = await WaitForLagAsync(pair, lag => lag == 0, "lag back to 0 after resume");
        Assert.Equal(0, resumed.LagSeconds);
    }

    [Fact]
    public async Task hung_node_times_out_within_probe_timeout_while_the_other_is_unaffected()
    {
        await using var pair = await PostgresPair.StartAsync();
        var monitor = new MonitorOptions { ProbeTimeout = TimeSpan.FromSeconds(2) };

        // A first probe pays for loading and compiling the client's code: paid here, not in the standby's timed probe.
        await using (var warmUp = Prober(pair.Standby, monitor))
        {
            await warmUp.ProbeAsync(CancellationToken.None);
        }

        await pair.Primary.SignalServerAsync("STOP", CancellationToken.None);
        try
        {
            var clock = Stopwatch.StartNew();
            var reports = await Task.WhenAll(Prober(pair.Primary, monitor).ProbeAsync(CancellationToken.None), Prober(pair.Standby, monitor).ProbeAsync(CancellationToken.None));
            var elapsed = clock.Elapsed;

            Assert.Equal(ProbeFailureKind.Timeout, reports[0].Failure?.Kind);
            // Generous bounds for a noisy machine: the point is "bounded", and "not held up by the hung node".
            Assert.True(elapsed < monitor.ProbeTimeout + TimeSpan.FromSeconds(1), $"probe took {elapsed}");
            Assert.True(reports[1].Reachable, reports[1].Failure?.ToString());
            Assert.True(reports[1].Duration < monitor.ProbeTimeout * 0.75, $"standby probe took {reports[1].Duration}");
        }
        finally
        {
            await pair.Primary.SignalServerAsync("CONT", CancellationToken.None);
        }
    }

    [Fact]
    public async Task stopped_node_is_unreachable()
    {
        await using var pair = await PostgresPair.StartAsync();
        await pair.Standby.StopAsync(CancellationToken.None);
        var report = await Prober(pair.Standby).ProbeAsync(CancellationToken.None);
        Assert.Equal(ProbeFailureKind.Unreachable, report.Failure?.Kind);
    }

    [Fact]
    public async Task blocked_heartbeat_commit_fails_the_probe_as_a_write_failure()
    {
        await using var pair = await PostgresPair.StartAsync();
        var prober = Prober(pair.Primary, new MonitorOptions { ProbeTimeout = TimeSpan.FromSeconds(10), WriteProbe = true });
        Assert.True((await prober.ProbeAsync(CancellationToken.None)).Reachable);

        await pair.Primary.ExecuteAsync("ALTER SYSTEM SET default_transaction_read_only = on; SELECT pg_reload_conf()", CancellationToken.None);
        await Wait.UntilAsync(
            async () => (await prober.ProbeAsync(CancellationToken.None)).Failure is { Kind: ProbeFailureKind.WriteFailed } f && f.Detail.Contains("read-only", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20),
            "write_failed: read-only transaction");
    }

    [Fact]
    public async Task one_connection_answers_ten_probes_then_a_fresh_one_replaces_it()
    {
        await using var pair = await PostgresPair.StartAsync();
        await using var prober = Prober(pair.Primary);
        Assert.True((await prober.ProbeAsync(CancellationToken.None)).Reachable);
        var first = await ProbeBackendsAsync(pair.Primary);

        for (var probe = 2; probe <= NodeProber.ProbesPerConnection; probe++)
        {
            Assert.True((await prober.ProbeAsync(CancellationToken.None)).Reachable);
            Assert.Equal(first, await ProbeBackendsAsync(pair.Primary));
        }

        Assert.True((await prober.ProbeAsync(CancellationToken.None)).Reachable);
        var replaced = await ProbeBackendsAsync(pair.Primary);
        Assert.NotEqual(first, replaced);
        Assert.DoesNotContain(',', replaced);
    }

    [Fact]
    public async Task a_kept_connection_whose_backend_was_terminated_is_no_failed_probe()
    {
        await using var pair = await PostgresPair.StartAsync();
        await using var prober = Prober(pair.Primary);
        Assert.True((await prober.ProbeAsync(CancellationToken.None)).Reachable);
        var kept = await ProbeBackendsAsync(pair.Primary);

        await pair.Primary.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'failoverwatch'", CancellationToken.None);
        await Wait.UntilAsync(async () => await ProbeBackendsAsync(pair.Primary) == "", TimeSpan.FromSeconds(10), "the kept backend gone");

        var report = await prober.ProbeAsync(CancellationToken.None);
        Assert.True(report.Reachable, report.Failure?.ToString());
        Assert.NotEqual(kept, await ProbeBackendsAsync(pair.Primary));
    }

    [Fact]
    public async Task a_server_that_accepts_no_new_connections_fails_within_ten_probes()
    {
        await using var pair = await PostgresPair.StartAsync();
        await using var prober = Prober(pair.Primary, new MonitorOptions { ProbeTimeout = TimeSpan.FromSeconds(1) });
        Assert.True((await prober.ProbeAsync(CancellationToken.None)).Reachable);

        // The postmaster alone stopped: the kept backend still answers, a new connection never completes.
        await pair.Primary.SignalAsync("STOP", CancellationToken.None);
        try
        {
            var failedAt = 0;
            for (var probe = 1; probe <= NodeProber.ProbesPerConnection && failedAt == 0; probe++)
            {
                if ((await prober.ProbeAsync(CancellationToken.None)).Failure is { Kind: ProbeFailureKind.Timeout })
                {
                    failedAt = probe;
                }
            }

            Assert.NotEqual(0, failedAt);
            Assert.Equal(ProbeFailureKind.Timeout, (await prober.ProbeAsync(CancellationToken.None)).Failure?.Kind);
        }
        finally
        {
            await pair.Primary.SignalAsync("CONT", CancellationToken.None);
        }
    }

    /// <summary>The pids of the prober's backends on the server, comma-separated.</summary>
    private static Task<string> ProbeBackendsAsync(LocalPostgresServer server) =>
        server.QueryScalarAsync<string>("SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity WHERE application_name = 'failoverwatch'", CancellationToken.None);

    /// <param name="received">Also wait until the standby has received everything (its receive lag is 0).</param>
    private static async Task<NodeStatus> WaitForLagAsync(PostgresPair pair, Func<long, bool> condition, string what, bool received = false)
    {
        NodeStatus? last = null;
        await Wait.UntilAsync(
            async () =>
            {
                var reports = await Task.WhenAll(Prober(pair.Primary).ProbeAsync(CancellationToken.None), Prober(pair.Standby).ProbeAsync(CancellationToken.None));
                last = ClusterView.Build(reports, "pg1", null, DateTimeOffset.UtcNow).Find("pg2")!;
                return last.LagBytes is { } lag && condition(lag) && (!received || last.ReceiveLagBytes == 0);
            },
            TimeSpan.FromSeconds(30),
            what);
        return last!;
    }
}
