using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;
using FailoverWatch.Replication;
using FailoverWatch.State;

namespace FailoverWatch.Tests.Replication;

/// <summary>The steps of <see cref="SyncSetPolicy"/> one by one, on a fake clock.</summary>
public sealed class SyncSetPolicyTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly SyncSettings Sync = new(ReplicationModes.Sync, 1, TimeSpan.FromSeconds(5), ["pg2", "pg3"]);
    private static readonly SyncSettings Strict = Sync with { Mode = ReplicationModes.Strict };

    private static SyncStandbyRow Row(string name, ulong flush, string sync = "async", bool streaming = true) => new(name, streaming, sync, new Lsn(flush));

    private static PrimaryReplication Primary(string setting, ulong lsn, params SyncStandbyRow[] rows) => new(setting, new Lsn(lsn), rows, []);

    private static SyncReplicationState Recorded(params string[] standbys) => new() { Standbys = standbys };

    [Fact]
    public void a_streaming_standby_is_named_once_it_flushed_what_the_primary_had_then_recorded_once_it_confirms_a_later_position()
    {
        var round = SyncSetPolicy.Decide(Sync, Primary("", 100, Row("pg2", 90)), SyncReplicationState.None, SyncProgress.Start, Start);
        Assert.IsType<SyncNothing>(round.Step);
        Assert.Equal(new Lsn(100), round.Progress.NameAfter["pg2"]);

        round = SyncSetPolicy.Decide(Sync, Primary("", 120, Row("pg2", 100)), SyncReplicationState.None, round.Progress, Start.AddSeconds(1));
        var name = Assert.IsType<SyncName>(round.Step);
        Assert.Equal("\"pg2\"", name.Setting);

        // The reload has not reached the primary's processes yet: not sync, nothing noted.
        round = SyncSetPolicy.Decide(Sync, Primary("\"pg2\"", 130, Row("pg2", 130)), SyncReplicationState.None, round.Progress, Start.AddSeconds(2));
        Assert.IsType<SyncNothing>(round.Step);
        Assert.Empty(round.Progress.RecordAfter);

        round = SyncSetPolicy.Decide(Sync, Primary("\"pg2\"", 140, Row("pg2", 130, "sync")), SyncReplicationState.None, round.Progress, Start.AddSeconds(3));
        Assert.IsType<SyncNothing>(round.Step);
        Assert.Equal(new Lsn(140), round.Progress.RecordAfter["pg2"]);

        round = SyncSetPolicy.Decide(Sync, Primary("\"pg2\"", 150, Row("pg2", 139, "sync")), SyncReplicationState.None, round.Progress, Start.AddSeconds(4));
        Assert.IsType<SyncNothing>(round.Step);

        round = SyncSetPolicy.Decide(Sync, Primary("\"pg2\"", 150, Row("pg2", 140, "sync")), SyncReplicationState.None, round.Progress, Start.AddSeconds(5));
        Assert.Equal(["pg2"], Assert.IsType<SyncRecord>(round.Step).Standbys);
    }

    [Fact]
    public void a_commit_waiting_less_than_degrade_after_drops_nothing_then_the_standby_is_unrecorded_before_it_is_unnamed()
    {
        var waiting = Primary("\"pg2\"", 200, Row("pg2", 150, "sync")) with { Waiters = [new SyncWaiter("41@t", TimeSpan.Zero)] };
        var round = SyncSetPolicy.Decide(Sync, waiting, Recorded("pg2"), SyncProgress.Start, Start);
        Assert.IsType<SyncNothing>(round.Step);

        round = SyncSetPolicy.Decide(Sync, waiting, Recorded("pg2"), round.Progress, Start.AddSeconds(4.9));
        Assert.IsType<SyncNothing>(round.Step);

        var progress = round.Progress;
        round = SyncSetPolicy.Decide(Sync, waiting, Recorded("pg2"), progress, Start.AddSeconds(5));
        var unrecord = Assert.IsType<SyncUnrecord>(round.Step);
        Assert.True(unrecord.Degrade);
        Assert.Equal(["pg2"], unrecord.Standbys);

        // The state write failed: the executor keeps its progress, and the next round asks for the same write, never the un-naming.
        round = SyncSetPolicy.Decide(Sync, waiting, Recorded("pg2"), progress, Start.AddSeconds(6));
        Assert.IsType<SyncUnrecord>(round.Step);

        round = SyncSetPolicy.Decide(Sync, waiting, SyncReplicationState.None, round.Progress, Start.AddSeconds(7));
        Assert.Empty(Assert.IsType<SyncName>(round.Step).Standbys);
        Assert.Equal(new Lsn(200), round.Progress.NameAfter["pg2"]);
    }

    [Fact]
    public void many_short_waits_are_not_one_long_one()
    {
        var progress = SyncProgress.Start;
        for (var second = 0; second < 20; second++)
        {
            var primary = Primary("\"pg2\"", 200, Row("pg2", 190, "sync")) with { Waiters = [new SyncWaiter($"{second}@t", TimeSpan.FromMilliseconds(3))] };
            var round = SyncSetPolicy.Decide(Sync, primary, Recorded("pg2"), progress, Start.AddSeconds(second));
            Assert.IsType<SyncNothing>(round.Step);
            progress = round.Progress;
        }
    }

    [Fact]
    public void a_wait_is_timed_from_its_statement_start_but_never_from_before_the_last_round_that_did_not_see_it()
    {
        var fresh = Primary("\"pg2\"", 200, Row("pg2", 150, "sync")) with { Waiters = [new SyncWaiter("41@t", TimeSpan.FromSeconds(4.5))] };
        var round = SyncSetPolicy.Decide(Sync, fresh, SyncReplicationState.None, SyncProgress.Start, Start);
        Assert.Equal(Start.AddSeconds(-4.5), round.Progress.WaitersSince["41@t"]);
        Assert.IsType<SyncUnrecord>(SyncSetPolicy.Decide(Sync, fresh, Recorded("pg2"), round.Progress, Start.AddSeconds(0.5)).Step);

        // A statement that ran 60 s and then waited to commit: not seen a second ago, so waiting a second at most.
        var seenBefore = SyncSetPolicy.Decide(Sync, Primary("\"pg2\"", 200, Row("pg2", 150, "sync")), Recorded("pg2"), SyncProgress.Start, Start).Progress;
        var longStatement = fresh with { Waiters = [new SyncWaiter("42@t", TimeSpan.FromSeconds(60))] };
        round = SyncSetPolicy.Decide(Sync, longStatement, Recorded("pg2"), seenBefore, Start.AddSeconds(1));
        Assert.IsType<SyncNothing>(round.Step);
        Assert.Equal(Start, round.Progress.WaitersSince["42@t"]);
    }

    [Fact]
    public void a_dropped_standby_is_named_again_only_once_it_flushed_the_position_of_its_drop()
    {
        var progress = SyncProgress.Start with { NameAfter = SyncProgress.Start.NameAfter.Add("pg2", new Lsn(200)) };
        var frozen = SyncSetPolicy.Decide(Sync, Primary("", 300, Row("pg2", 150)), SyncReplicationState.None, progress, Start);
        Assert.IsType<SyncNothing>(frozen.Step);

        var thawed = SyncSetPolicy.Decide(Sync, Primary("", 300, Row("pg2", 200)), SyncReplicationState.None, frozen.Progress, Start.AddSeconds(1));
        Assert.Equal(["pg2"], Assert.IsType<SyncName>(thawed.Step).Standbys);
    }

    [Fact]
    public void strict_never_drops_a_standby_however_long_commits_wait()
    {
        var waiting = Primary("\"pg2\"", 200, Row("pg2", 150, "sync")) with { Waiters = [new SyncWaiter("41@t", TimeSpan.Zero)] };
        var progress = SyncProgress.Start;
        for (var second = 0; second < 600; second += 30)
        {
            var round = SyncSetPolicy.Decide(Strict, waiting, Recorded("pg2"), progress, Start.AddSeconds(second));
            Assert.IsType<SyncNothing>(round.Step);
            progress = round.Progress;
        }
    }

    [Fact]
    public void strict_names_a_configured_standby_even_when_none_streams_so_commits_wait()
    {
        var round = SyncSetPolicy.Decide(Strict, Primary("*", 100), SyncReplicationState.None, SyncProgress.Start, Start);
        Assert.Equal(["pg2"], Assert.IsType<SyncName>(round.Step).Standbys);
    }

    [Fact]
    public void a_standby_recorded_beyond_number_is_unrecorded_before_the_primary_stops_naming_it()
    {
        var round = SyncSetPolicy.Decide(Sync, Primary("FIRST 2 (\"pg2\", \"pg3\")", 100, Row("pg2", 100, "sync"), Row("pg3", 100, "sync")), Recorded("pg2", "pg3"), SyncProgress.Start, Start);
        Assert.Equal(["pg3"], Assert.IsType<SyncUnrecord>(round.Step).Standbys);
        round = SyncSetPolicy.Decide(Sync, Primary("FIRST 2 (\"pg2\", \"pg3\")", 100, Row("pg2", 100, "sync"), Row("pg3", 100, "sync")), Recorded("pg2"), round.Progress, Start);
        Assert.Equal(["pg2"], Assert.IsType<SyncName>(round.Step).Standbys);
    }

    [Fact]
    public void async_unrecords_then_clears_only_a_value_failoverwatch_wrote()
    {
        var async = Sync with { Mode = ReplicationModes.Async };
        Assert.IsType<SyncUnrecord>(SyncSetPolicy.Decide(async, Primary("\"pg2\"", 100), Recorded("pg2"), SyncProgress.Start, Start).Step);
        Assert.Empty(Assert.IsType<SyncName>(SyncSetPolicy.Decide(async, Primary("\"pg2\"", 100), SyncReplicationState.None, SyncProgress.Start, Start).Step).Standbys);
        Assert.IsType<SyncNothing>(SyncSetPolicy.Decide(async, Primary("ANY 1 (a, b)", 100), SyncReplicationState.None, SyncProgress.Start, Start).Step);
    }

    [Theory]
    [InlineData(new string[0], "")]
    [InlineData(new[] { "pg2" }, "\"pg2\"")]
    [InlineData(new[] { "pg2", "p\"g3" }, "FIRST 2 (\"pg2\", \"p\"\"g3\")")]
    public void names_are_written_as_exactly_the_standbys_each_commit_must_reach_and_read_back(string[] names, string setting)
    {
        Assert.Equal(setting, SyncStandbyNames.Format(names));
        Assert.Equal(names, SyncStandbyNames.Parse(setting));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("pg2")]
    [InlineData("ANY 1 (\"pg2\", \"pg3\")")]
    [InlineData("FIRST 2 (\"pg2\")")]
    [InlineData("\"pg2")]
    public void a_value_failoverwatch_did_not_write_is_not_read_as_its_own(string setting)
    {
        Assert.Null(SyncStandbyNames.Parse(setting));
    }
}
