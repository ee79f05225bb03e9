using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;
using FailoverWatch.Monitoring;
using FailoverWatch.State;
using Npgsql;
using static FailoverWatch.IntegrationTests.FailoverTests;

namespace FailoverWatch.IntegrationTests;

/// <summary>
/// Synchronous replication on a real pair whose standby streams through a relay the test freezes: the standby is named,
/// dropped after degrade_after (sync) or waited for (strict), named again once it catches up, and a failover loses no
/// acknowledged commit where the same test in async mode does.
/// </summary>
public sealed class SynchronousReplicationTests
{
    private const string Pg2Recorded = "failoverwatch_sync_standby{cluster=\"test\",node=\"pg2\"}";
    private const string Degraded = "failoverwatch_replication_degraded{cluster=\"test\"}";

    private static async Task<TestCluster> StartAsync(string mode, string degradeAfter, string? statePath = null)
    {
        var cluster = await TestCluster.StartAsync(Fast, relayReplication: true, statePath: statePath);
        await File.AppendAllTextAsync(cluster.ConfigPath, $"replication:\n  mode: {mode}\n  number: 1\n  degrade_after: {degradeAfter}\n");
        return cluster;
    }

    private static Task<string> NamedAsync(LocalPostgresServer server) =>
        server.QueryScalarAsync<string>("SELECT current_setting('synchronous_standby_names')", CancellationToken.None);

    private static async Task WaitForRecordedAsync(TestCluster cluster, MonitorProcess monitor, TimeSpan within, string what)
    {
        await Wait.UntilAsync(
            async () => await NamedAsync(cluster.Pair.Primary) == "\"pg2\"" && await monitor.MetricAsync(Pg2Recorded) == 1 && await monitor.MetricAsync(Degraded) == 0,
            within,
            what);
        var replication = (await monitor.StatusAsync()).GetProperty("replication");
        Assert.Equal("pg2", replication.GetProperty("sync_standbys")[0].GetString());
    }

    /// <summary>pg1 primary, pg2 named and recorded, and a table t to commit into.</summary>
    private static async Task RecordedWithTableAsync(TestCluster cluster, MonitorProcess monitor)
    {
        await WaitForPrimaryAsync(monitor, "pg1");
        await WaitForRecordedAsync(cluster, monitor, TimeSpan.FromSeconds(20), "pg2 named and recorded as synchronous");
        await cluster.Pair.Primary.ExecuteAsync("CREATE TABLE t (id int)", CancellationToken.None);
    }

    private static async Task<TimeSpan> TimedCommitAsync(LocalPostgresServer server, string sql)
    {
        var clock = Stopwatch.StartNew();
        await server.ExecuteAsync(sql, CancellationToken.None);
        return clock.Elapsed;
    }

    [Fact]
    public async Task sync_names_the_standby_drops_it_after_degrade_after_while_it_is_frozen_and_names_it_again_once_it_thaws()
    {
        await using var cluster = await StartAsync("sync", "3s");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await RecordedWithTableAsync(cluster, monitor);

        cluster.Pair.ReplicationRelay!.Cut();
        var took = await TimedCommitAsync(cluster.Pair.Primary, "INSERT INTO t VALUES (1)").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(took >= TimeSpan.FromSeconds(3) && took < TimeSpan.FromSeconds(12), $"the commit returned after {took.TotalSeconds:0.0}s, degrade_after is 3s");
        Assert.Equal("", await NamedAsync(cluster.Pair.Primary));

        // The gauges are published at the end of the monitor's step, after the reload that let the commit return.
        await Wait.UntilAsync(async () => await monitor.MetricAsync(Pg2Recorded) == 0 && await monitor.MetricAsync(Degraded) == 1, TimeSpan.FromSeconds(20), "pg2 un-recorded and degraded in the metrics");
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, (await monitor.StatusAsync()).GetProperty("replication").GetProperty("degraded_since").ValueKind);
        Assert.True(await TimedCommitAsync(cluster.Pair.Primary, "INSERT INTO t VALUES (2)").WaitAsync(TimeSpan.FromSeconds(20)) < TimeSpan.FromSeconds(2.5), "commits flow while degraded");

        // Still frozen: not named again, however long.
        await Wait.HoldsAsync(async () => await NamedAsync(cluster.Pair.Primary) == "", TimeSpan.FromSeconds(3), "no standby named while the link is frozen");

        cluster.Pair.ReplicationRelay.Restore();
        var thawed = Stopwatch.StartNew();
        await WaitForRecordedAsync(cluster, monitor, TimeSpan.FromSeconds(30), "pg2 named and recorded again after the thaw");
        await monitor.WaitForOutputAsync("Synchronous replication degraded");
        Console.WriteLine($"named and recorded again {thawed.Elapsed.TotalSeconds:0.0}s after the thaw; a frozen commit returned after {took.TotalSeconds:0.0}s");
    }

    [Fact]
    public async Task sync_drops_nothing_while_the_state_cannot_be_written_so_commits_wait_as_in_strict()
    {
        using var stateDirectory = new TempDirectory();
        await using var mount = await TmpfsMount.MountAsync(stateDirectory.File("state"), "1m");
        await using var cluster = await StartAsync("sync", "2s", Path.Combine(mount.Path, "state.json"));
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await RecordedWithTableAsync(cluster, monitor);

        await mount.MakeReadOnlyAsync();
        cluster.Pair.ReplicationRelay!.Cut();
        var commit = TimedCommitAsync(cluster.Pair.Primary, "INSERT INTO t VALUES (1)");
        await monitor.WaitForOutputAsync("Synchronous replication step on pg1 not done");
        await Wait.HoldsAsync(() => Task.FromResult(!commit.IsCompleted), TimeSpan.FromSeconds(4), "the commit waits: pg2 cannot be un-recorded, so it is not un-named");
        Assert.Equal("\"pg2\"", await NamedAsync(cluster.Pair.Primary));

        await mount.MakeWritableAsync();
        await commit.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("", await NamedAsync(cluster.Pair.Primary));
        Assert.Empty(FailoverStateStore.Load(cluster.StatePath).Replication.Standbys);
    }

    [Fact]
    public async Task a_switchover_resets_the_targets_inherited_setting_so_writes_on_the_new_primary_do_not_block()
    {
        await using var cluster = await StartAsync("sync", "3s");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await RecordedWithTableAsync(cluster, monitor);
        await cluster.Pair.Standby.ExecuteAsync("ALTER SYSTEM SET synchronous_standby_names = '\"pg1\"'", CancellationToken.None);
        await cluster.Pair.Standby.ExecuteAsync("SELECT pg_reload_conf()", CancellationToken.None);

        var (exit, output) = await MonitorProcess.RunCliAsync("switchover", "--config", cluster.ConfigPath, "--to", "pg2");
        Assert.True(exit == 0, output + monitor.Output);
        Assert.True(await TimedCommitAsync(cluster.Pair.Standby, "INSERT INTO t VALUES (1)").WaitAsync(TimeSpan.FromSeconds(20)) < TimeSpan.FromSeconds(5), "writes on the new primary do not block");
        Assert.Equal("", await NamedAsync(cluster.Pair.Standby));
        await Wait.UntilAsync(async () => await monitor.MetricAsync(Pg2Recorded) == 0 && await monitor.MetricAsync(Degraded) == 1, TimeSpan.FromSeconds(10), "nothing recorded for the new primary");
    }

    [Fact]
    public async Task strict_keeps_the_commit_waiting_while_the_standby_is_frozen()
    {
        await using var cluster = await StartAsync("strict", "2s");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await RecordedWithTableAsync(cluster, monitor);

        cluster.Pair.ReplicationRelay!.Cut();
        var commit = TimedCommitAsync(cluster.Pair.Primary, "INSERT INTO t VALUES (1)");
        await Wait.HoldsAsync(() => Task.FromResult(!commit.IsCompleted), TimeSpan.FromSeconds(7), "the commit waits on the frozen standby");
        Assert.Equal("\"pg2\"", await NamedAsync(cluster.Pair.Primary));
        Assert.Equal(1, await monitor.MetricAsync(Pg2Recorded));

        cluster.Pair.ReplicationRelay.Restore();
        await commit.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// A client commits as fast as it can; the link freezes for less than degrade_after (each commit waits), the primary is
    /// killed and the relay dropped. In sync the promoted standby holds every acknowledged id; in async some are gone,
    /// which shows the test can fail.
    /// </summary>
    [Theory]
    [InlineData("sync")]
    [InlineData("async")]
    public async Task a_failover_after_a_frozen_link_keeps_every_acknowledged_commit_only_when_synchronous(string mode)
    {
        await using var cluster = await StartAsync(mode, "20s");
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await WaitForPrimaryAsync(monitor, "pg1");
        if (mode == "sync")
        {
            await WaitForRecordedAsync(cluster, monitor, TimeSpan.FromSeconds(20), "pg2 named and recorded as synchronous");
        }
        else
        {
            await cluster.Pair.WaitForStreamingAsync();
        }

        await cluster.Pair.Primary.ExecuteAsync("CREATE TABLE acked (id int PRIMARY KEY)", CancellationToken.None);

        if (mode == "sync")
        {
            // What a rewound or base-backed-up node carries in postgresql.auto.conf: the new primary must not wait on it.
            await cluster.Pair.Standby.ExecuteAsync("ALTER SYSTEM SET synchronous_standby_names = '\"pg1\"'", CancellationToken.None);
            await cluster.Pair.Standby.ExecuteAsync("SELECT pg_reload_conf()", CancellationToken.None);
        }

        var acknowledged = new ConcurrentBag<int>();
        using var stop = new CancellationTokenSource();
        var client = Task.Run(() => CommitAsFastAsPossibleAsync(cluster.Pair.Primary, acknowledged, stop.Token));
        await Wait.UntilAsync(() => acknowledged.Count >= 200, TimeSpan.FromSeconds(20), "acknowledgements flowing");

        cluster.Pair.ReplicationRelay!.Cut();
        var frozenAt = acknowledged.Count;
        await Wait.UntilAsync(
            async () => acknowledged.Count >= frozenAt + 50 || await cluster.Pair.Primary.QueryScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'", CancellationToken.None) > 0,
            TimeSpan.FromSeconds(10),
            "commits acknowledged without the standby (async) or waiting on it (sync)");

        // Killed well within degrade_after; the relay stays cut, so nothing more reaches the standby.
        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        await client.WaitAsync(TimeSpan.FromSeconds(30));

        await WaitForWritableAsync(cluster.Pair.Standby, TimeSpan.FromSeconds(40));
        var held = new HashSet<int>();
        await using (var dataSource = NodeConnectionStrings.WithoutTypeLoading(cluster.Pair.Standby.ConnectionString()))
        await using (var command = dataSource.CreateCommand("SELECT id FROM acked"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                held.Add(reader.GetInt32(0));
            }
        }

        var lost = acknowledged.Where(id => !held.Contains(id)).Order().ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mode}: {acknowledged.Count} acknowledged ({acknowledged.Count - frozenAt} after the freeze), {lost.Count} lost"));
        Assert.True(acknowledged.Count > 0);
        if (mode == "sync")
        {
            Assert.Empty(lost);
            Assert.True(await TimedCommitAsync(cluster.Pair.Standby, "INSERT INTO acked VALUES (-1)").WaitAsync(TimeSpan.FromSeconds(20)) < TimeSpan.FromSeconds(5), "writes on the new primary do not block");
            Assert.Equal("", await NamedAsync(cluster.Pair.Standby));
        }
        else
        {
            Assert.NotEmpty(lost);
        }
    }

    /// <summary>One INSERT a commit, in id order; an id is acknowledged once its commit returned.</summary>
    private static async Task CommitAsFastAsPossibleAsync(LocalPostgresServer primary, ConcurrentBag<int> acknowledged, CancellationToken cancellationToken)
    {
        try
        {
            await using var dataSource = NodeConnectionStrings.WithoutTypeLoading(primary.ConnectionString());
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var insert = new NpgsqlCommand("INSERT INTO acked VALUES ($1)", connection) { Parameters = { new NpgsqlParameter<int> { TypedValue = 0 } } };
            for (var id = 1; !cancellationToken.IsCancellationRequested; id++)
            {
                insert.Parameters[0].Value = id;
                await insert.ExecuteNonQueryAsync(cancellationToken);
                acknowledged.Add(id);
            }
        }
        catch (Exception e) when (e is NpgsqlException or IOException or OperationCanceledException)
        {
            // The primary died: whatever had not returned was never acknowledged.
        }
    }
}
