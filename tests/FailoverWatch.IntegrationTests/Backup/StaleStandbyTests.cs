using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.IntegrationTests.Backup;

/// <summary>A standby whose replay stopped must not give an old dump that looks like a good one.</summary>
public sealed class StaleStandbyTests
{
    [Fact]
    public async Task standby_with_replay_paused_past_max_standby_delay_dumps_the_primary_and_without_a_primary_fails_naming_the_delay()
    {
        await using var pair = await PostgresPair.StartAsync();
        await pair.Primary.ExecuteAsync("CREATE TABLE posts AS SELECT generate_series(1, 100) AS id", CancellationToken.None);
        await BackupRig.CaughtUpAsync(pair);
        await pair.Standby.ExecuteAsync("SELECT pg_wal_replay_pause()", CancellationToken.None);
        await pair.Primary.ExecuteAsync("INSERT INTO posts SELECT generate_series(101, 150)", CancellationToken.None);
        // The delay counts from the standby's last replayed commit: wait until it is past the limit, by the standby's clock.
        await Wait.UntilAsync(
            async () => await pair.Standby.QueryScalarAsync<bool>("SELECT now() - pg_last_xact_replay_timestamp() > interval '2s'", CancellationToken.None),
            TimeSpan.FromSeconds(30), "standby 2s behind");
        using var dir = new TempDirectory();
        var yaml = BackupRig.Nodes(pair) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              postgres: { from: standby, max_standby_delay: 1s }
            """;
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (runner, metrics) = BackupRig.Runner(BackupRig.Load(yaml, dir.Path), clock);

        var fromPrimary = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(fromPrimary.Succeeded, fromPrimary.Error);
        var dump = fromPrimary.Manifest!.Postgres!;
        Assert.Equal(("pg1", "primary"), (dump.Node, dump.Role));
        Assert.Equal(150, dump.Databases.Single(d => d.Name == "postgres").Tables["public.posts"]);
        Assert.Contains("standby pg2 is ", dump.InsteadOfStandby, StringComparison.Ordinal);
        Assert.Contains("(max_standby_delay 1s)", dump.InsteadOfStandby, StringComparison.Ordinal);
        Assert.Contains(fromPrimary.Manifest.Notes, n => n.Contains("instead of a standby", StringComparison.Ordinal));

        await pair.Primary.StopAsync(CancellationToken.None, "immediate");
        clock.Advance(TimeSpan.FromDays(1));
        var stale = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.False(stale.Succeeded);
        Assert.Equal("postgres", stale.FailedStep);
        Assert.Contains("not dumping a stale standby: standby pg2 is ", stale.Error, StringComparison.Ordinal);
        Assert.Contains("behind (max_standby_delay 1s)", stale.Error, StringComparison.Ordinal);
        Assert.Equal(1, metrics.BackupFailures.Get("postgres"));
    }
}
