using System.Globalization;
using System.Text.Json;
using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.IntegrationTests;

/// <summary>
/// A node without a rejoin_command, brought back by an operator's own pg_rewind (not failoverwatch rejoin, which
/// RejoinCommandTests and RejoinHostTests cover): the monitor watches it come back as a standby, and raises no split-brain
/// alarm, no second failover and no rejoin of its own.
/// </summary>
public sealed class RejoinTests
{
    [Fact]
    public async Task a_fenced_old_primary_rewound_by_hand_outside_failoverwatch_is_watched_as_a_streaming_standby_without_alarm()
    {
        await using var cluster = await TestCluster.StartAsync("probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 3");
        var (pg1, pg2) = (cluster.Pair.Primary, cluster.Pair.Standby);
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await FailoverTests.WaitForPrimaryAsync(monitor, "pg1");

        await pg1.SignalAsync("KILL", CancellationToken.None);
        await FailoverTests.WaitForWritableAsync(pg2, TimeSpan.FromSeconds(30));
        await Wait.UntilAsync(() => cluster.Marker("fenced-pg1") is not null, TimeSpan.FromSeconds(15), "pg1 fenced");
        await pg2.ExecuteAsync("CREATE TABLE after_failover AS SELECT 1 AS id", CancellationToken.None);

        // The monitor's checkpoint after the promotion puts the new timeline in pg2's control file, which pg_rewind reads.
        await Wait.UntilAsync(() => monitor.Output.Contains("Checkpoint on the new primary pg2 done", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "checkpoint on pg2");
        Assert.Equal(2, await pg2.QueryScalarAsync<int>("SELECT timeline_id FROM pg_control_checkpoint()", CancellationToken.None));

        // The operator's own pg_rewind (it runs crash recovery first: the fence was an immediate stop), then start. The fence's
        // marker is written before its stop, so the killed postmaster may not be gone yet: pg_rewind refuses a live one.
        await Wait.UntilAsync(() => pg1.PostmasterPid is null, TimeSpan.FromSeconds(20), "pg1's postmaster gone");
        var rewind = await pg1.RunToolAsync(
            "pg_rewind",
            ["--target-pgdata", pg1.DataDirectory, "--write-recovery-conf", "--source-server", string.Create(CultureInfo.InvariantCulture, $"host=127.0.0.1 port={pg2.Port} user=postgres dbname=postgres")],
            CancellationToken.None);
        await pg1.StartAsync(CancellationToken.None);

        try
        {
            await Wait.UntilAsync(
                async () => await monitor.MetricAsync("failoverwatch_standby_streaming{cluster=\"test\",node=\"pg1\"}") == 1,
                TimeSpan.FromSeconds(30),
                "pg1 streaming from pg2");
        }
        catch (TimeoutException e)
        {
            // Why a rejoined node does not stream is only in its own log.
            throw new TimeoutException($"{e.Message}\npg_rewind said:\n{rewind.StandardError}{rewind.StandardOutput}\npg1's log:\n{await File.ReadAllTextAsync(pg1.LogFile)}", e);
        }
        await Wait.UntilAsync(
            async () => await pg1.QueryScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE tablename = 'after_failover'", CancellationToken.None) == 1,
            TimeSpan.FromSeconds(30),
            "pg1 replays the new primary's writes");
        var status = await monitor.StatusAsync();
        Assert.Equal("pg2", status.GetProperty("primary").GetString());
        var node = status.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("name").GetString() == "pg1");
        Assert.Equal("standby", node.GetProperty("role").GetString());
        Assert.Equal(0, await monitor.MetricAsync("failoverwatch_split_brain_total{cluster=\"test\"}") ?? 0);
        Assert.Null(cluster.Marker("hook-split-brain"));
        Assert.Equal(1, JsonDocument.Parse(await File.ReadAllTextAsync(cluster.StatePath)).RootElement.GetProperty("history").EnumerateArray().Count(h => h.GetProperty("result").GetString() == "promoted"));
    }
}
