using FailoverWatch.Failover;
using FailoverWatch.Monitoring;
using FailoverWatch.State;
using static FailoverWatch.Tests.Failover.Reports;

namespace FailoverWatch.Tests.Failover;

/// <summary>With a recorded synchronous standby only such a standby is promoted; with none, the asynchronous rules apply.</summary>
public sealed class SynchronousFailoverPolicyTests
{
    private static readonly FailoverPolicySettings Settings = new(
        FailureThreshold: 3, MaxLagOnFailoverBytes: 1000, AutoFailover: true,
        Nodes: [new("pg1", PrimaryAddress, 5432), new("pg2", "10.0.0.2", 5432), new("pg3", "10.0.0.3", 5432)], RetryAfterFailedPromotion: TimeSpan.FromSeconds(30), PromotionTimeout: TimeSpan.FromSeconds(60));

    private static FailoverState Recorded(params string[] synchronous) =>
        new() { Primary = "pg1", Replication = new SyncReplicationState { Standbys = synchronous } };

    private static FailoverDecision Decide(ClusterView view, FailoverState state) =>
        FailoverPolicy.Decide(view, state, new PrimaryHealth(3, Now.AddSeconds(-3), null), Settings, Now);

    [Fact]
    public void only_the_recorded_synchronous_standby_is_promoted_even_when_another_received_more()
    {
        var promote = Assert.IsType<Promote>(Decide(View("pg1", 5000, PrimaryDown(), Standby("pg2", received: 4990), Standby("pg3", received: 5000)), Recorded("pg2")));
        Assert.Equal("pg2", promote.Target);
        Assert.Contains("recorded synchronous standby", promote.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void an_unreachable_recorded_standby_holds_the_failover_rather_than_promote_one_that_may_lack_commits()
    {
        var hold = Assert.IsType<HoldFailover>(Decide(View("pg1", 5000, PrimaryDown(), Down("pg2"), Standby("pg3", received: 5000)), Recorded("pg2")));
        Assert.Equal("sync_standby_unreachable", hold.Label);
    }

    [Fact]
    public void what_a_recorded_standby_lacks_was_never_acknowledged_so_max_lag_does_not_refuse_it()
    {
        var promote = Assert.IsType<Promote>(Decide(View("pg1", 50_000, PrimaryDown(), Standby("pg2", received: 1000)), Recorded("pg2")));
        Assert.Equal("pg2", promote.Target);
    }

    [Fact]
    public void nor_does_an_unknown_primary_position()
    {
        Assert.Equal("pg2", Assert.IsType<Promote>(Decide(View("pg1", null, PrimaryDown(), Standby("pg2", received: 1000)), Recorded("pg2"))).Target);
    }

    [Fact]
    public void degraded_with_nothing_recorded_the_asynchronous_rules_and_max_lag_apply()
    {
        var state = Recorded() with { Replication = new SyncReplicationState { DegradedSince = Now.AddMinutes(-1) } };
        Assert.IsType<RefuseLag>(Decide(View("pg1", 50_000, PrimaryDown(), Standby("pg2", received: 1000)), state));
        Assert.Equal("pg3", Assert.IsType<Promote>(Decide(View("pg1", 5000, PrimaryDown(), Standby("pg2", received: 4500), Standby("pg3", received: 5000)), state)).Target);
    }

    [Fact]
    public void a_new_primary_starts_with_no_recorded_standby_and_degraded()
    {
        var after = Recorded("pg2").Replication.ForNewPrimary(Now);
        Assert.Empty(after.Standbys);
        Assert.Equal(Now, after.DegradedSince);
        Assert.Same(SyncReplicationState.None, SyncReplicationState.None.ForNewPrimary(Now));
    }

    private static NodeReport PrimaryDown() => Down("pg1");
}
