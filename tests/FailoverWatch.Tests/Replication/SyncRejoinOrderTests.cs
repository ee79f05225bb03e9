using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;
using FailoverWatch.Replication;
using FailoverWatch.State;

namespace FailoverWatch.Tests.Replication;

/// <summary>Issue 17: a recorded synchronous standby about to be rejoined (restarted) is un-recorded first, then un-named.</summary>
public sealed class SyncRejoinOrderTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly PendingRejoin Pg2Rejoins = new("pg2", Now, null);

    [Fact]
    public void in_sync_a_node_with_a_pending_rejoin_is_no_candidate_in_strict_it_stays_one()
    {
        string[] nodes = ["pg1", "pg2", "pg3"];
        Assert.Equal(["pg3"], SyncStandbyManager.Candidates(nodes, "pg1", ReplicationModes.Sync, [Pg2Rejoins]));
        Assert.Equal(["pg2", "pg3"], SyncStandbyManager.Candidates(nodes, "pg1", ReplicationModes.Strict, [Pg2Rejoins]));
        Assert.Equal(["pg2", "pg3"], SyncStandbyManager.Candidates(nodes, "pg1", ReplicationModes.Sync, []));
    }

    [Fact]
    public void a_recorded_synchronous_standby_about_to_be_rejoined_is_unrecorded_then_unnamed_and_not_named_again_while_pending()
    {
        var settings = new SyncSettings(ReplicationModes.Sync, 1, TimeSpan.FromSeconds(5), SyncStandbyManager.Candidates(["pg1", "pg2"], "pg1", ReplicationModes.Sync, [Pg2Rejoins]));
        var primary = new PrimaryReplication("\"pg2\"", new Lsn(200), [new SyncStandbyRow("pg2", true, "sync", new Lsn(200))], []);

        var round = SyncSetPolicy.Decide(settings, primary, new SyncReplicationState { Standbys = ["pg2"] }, SyncProgress.Start, Now);
        Assert.Equal(["pg2"], Assert.IsType<SyncUnrecord>(round.Step).Standbys);

        // Only once the state no longer holds it does the primary stop naming it.
        round = SyncSetPolicy.Decide(settings, primary, SyncReplicationState.None, round.Progress, Now.AddSeconds(1));
        Assert.Equal("", Assert.IsType<SyncName>(round.Step).Setting);

        // Still streaming and caught up, it is not named again while its rejoin is pending.
        var unnamed = primary with { Setting = "", Standbys = [new SyncStandbyRow("pg2", true, "async", new Lsn(300))], CurrentLsn = new Lsn(300) };
        for (var second = 2; second < 10; second++)
        {
            round = SyncSetPolicy.Decide(settings, unnamed, SyncReplicationState.None, round.Progress, Now.AddSeconds(second));
            Assert.IsType<SyncNothing>(round.Step);
        }
    }
}
