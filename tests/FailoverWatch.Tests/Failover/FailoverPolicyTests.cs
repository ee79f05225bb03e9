using FailoverWatch.Failover;
using FailoverWatch.Monitoring;
using FailoverWatch.State;
using Microsoft.Extensions.Time.Testing;
using static FailoverWatch.Tests.Failover.Reports;

namespace FailoverWatch.Tests.Failover;

public sealed class FailoverPolicyTests
{
    private static readonly FailoverPolicySettings Settings = new(
        FailureThreshold: 3, MaxLagOnFailoverBytes: 16 << 20, AutoFailover: true,
        Nodes: [new("pg1", PrimaryAddress, 5432), new("pg2", "10.0.0.2", 5432), new("pg3", "10.0.0.3", 5432)], RetryAfterFailedPromotion: TimeSpan.FromSeconds(30), PromotionTimeout: TimeSpan.FromSeconds(60));

    private static readonly FailoverState RecordedPg1 = new() { Primary = "pg1" };

    private static PrimaryHealth Failures(int count) => new(count, Now.AddSeconds(-count), null);

    private static FailoverDecision Decide(ClusterView view, FailoverState? state = null, PrimaryHealth? health = null, FailoverPolicySettings? settings = null, DateTimeOffset? now = null) =>
        FailoverPolicy.Decide(view, state ?? RecordedPg1, health ?? Failures(3), settings ?? Settings, now ?? Now);

    [Fact]
    public void healthy_primary_needs_nothing()
    {
        var decision = Decide(View("pg1", null, Primary("pg1"), Standby("pg2", streaming: true)), health: PrimaryHealth.Initial);
        Assert.IsType<NoAction>(decision);
        Assert.Contains("healthy", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void first_start_adopts_the_only_writable_node()
    {
        var decision = Decide(View(null, null, Standby("pg2"), Primary("pg1")), FailoverState.Empty, PrimaryHealth.Initial);
        Assert.Equal("pg1", Assert.IsType<AdoptPrimary>(decision).Node);
    }

    [Fact]
    public void first_start_without_any_primary_waits()
    {
        Assert.IsType<NoAction>(Decide(View(null, null, Down("pg1"), Standby("pg2")), FailoverState.Empty, PrimaryHealth.Initial));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void primary_down_fewer_times_than_threshold_waits(int failures)
    {
        var decision = Decide(View("pg1", 1000, Down("pg1"), Standby("pg2")), health: Failures(failures));
        Assert.IsType<NoAction>(decision);
        Assert.Contains($"failed {failures} of 3", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void primary_down_threshold_times_promotes_the_standby()
    {
        var promote = Assert.IsType<Promote>(Decide(View("pg1", 1000, Down("pg1"), Standby("pg2"))));
        Assert.Equal("pg2", promote.Target);
        Assert.Equal("pg1", promote.OldPrimary);
    }

    [Fact]
    public void hung_primary_timeouts_count_like_refusals()
    {
        Assert.IsType<Promote>(Decide(View("pg1", 1000, Down("pg1", ProbeFailureKind.Timeout), Standby("pg2"))));
    }

    [Fact]
    public void does_not_promote_when_standby_still_streams()
    {
        var hold = Assert.IsType<HoldFailover>(Decide(View("pg1", 1000, Down("pg1"), Standby("pg2", streaming: true))));
        Assert.Equal("standby_streaming", hold.Label);
        Assert.Contains("pg2 still streams", hold.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void a_cascaded_standby_streaming_from_another_standby_is_no_proof_the_primary_lives()
    {
        // pg1 -> pg2 -> pg3: pg1 dies, pg2's receiver stops, pg3 goes on streaming from pg2.
        var view = View("pg1", 1000, Down("pg1"), Standby("pg2", received: 1000), Standby("pg3", received: 900, streaming: true, from: "10.0.0.2"));
        Assert.Equal("pg2", Assert.IsType<Promote>(Decide(view)).Target);
    }

    [Fact]
    public void a_standby_streaming_from_an_address_no_node_has_still_holds_the_failover()
    {
        // A virtual IP or a hostname in primary_conninfo: it may well be the primary, so it counts.
        var view = View("pg1", 1000, Down("pg1"), Standby("pg2", streaming: true, from: "db-primary.internal"));
        Assert.Equal("standby_streaming", Assert.IsType<HoldFailover>(Decide(view)).Label);
    }

    [Fact]
    public void does_not_promote_when_any_standby_still_streams()
    {
        var view = View("pg1", 1000, Down("pg1"), Standby("pg2"), Standby("pg3", streaming: true));
        Assert.Equal("standby_streaming", Assert.IsType<HoldFailover>(Decide(view)).Label);
    }

    [Fact]
    public void does_not_promote_when_paused()
    {
        var hold = Assert.IsType<HoldFailover>(Decide(View("pg1", 1000, Down("pg1"), Standby("pg2")), RecordedPg1 with { Paused = true }));
        Assert.Equal("paused", hold.Label);
    }

    [Fact]
    public void does_not_promote_when_auto_failover_is_off()
    {
        var hold = Assert.IsType<HoldFailover>(Decide(View("pg1", 1000, Down("pg1"), Standby("pg2")), settings: Settings with { AutoFailover = false }));
        Assert.Equal("disabled", hold.Label);
    }

    [Fact]
    public void does_not_promote_when_no_standby_answers()
    {
        var hold = Assert.IsType<HoldFailover>(Decide(View("pg1", 1000, Down("pg1"), Down("pg2"))));
        Assert.Equal("no_standby", hold.Label);
    }

    [Fact]
    public void refuses_standby_whose_received_wal_lags_past_the_limit()
    {
        var lastKnown = 100UL << 20;
        var refuse = Assert.IsType<RefuseLag>(Decide(View("pg1", lastKnown, Down("pg1"), Standby("pg2", received: 50UL << 20))));
        Assert.Equal("pg2", refuse.Target);
        Assert.Equal(50L << 20, refuse.ReceiveLagBytes);
        Assert.Contains("would be lost", refuse.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void lag_exactly_at_the_limit_is_allowed()
    {
        var lastKnown = 100UL << 20;
        Assert.IsType<Promote>(Decide(View("pg1", lastKnown, Down("pg1"), Standby("pg2", received: lastKnown - (16UL << 20)))));
    }

    [Fact]
    public void received_but_unreplayed_wal_is_not_lag_that_blocks_promotion()
    {
        var lastKnown = 100UL << 20;
        var view = View("pg1", lastKnown, Down("pg1"), Standby("pg2", received: lastKnown, replayed: 1000));
        Assert.IsType<Promote>(Decide(view));
        Assert.Equal(lastKnown - 1000, (ulong)view.Find("pg2")!.LagBytes!.Value);
    }

    [Fact]
    public void picks_the_standby_with_most_received_wal()
    {
        var view = View("pg1", 5000, Down("pg1"), Standby("pg2", received: 4000), Standby("pg3", received: 4500));
        Assert.Equal("pg3", Assert.IsType<Promote>(Decide(view)).Target);
    }

    [Fact]
    public void ties_go_to_config_order()
    {
        var view = View("pg1", 5000, Down("pg1"), Standby("pg3", received: 4000), Standby("pg2", received: 4000));
        Assert.Equal("pg2", Assert.IsType<Promote>(Decide(view)).Target);
    }

    [Fact]
    public void unreachable_standbys_are_never_chosen()
    {
        var view = View("pg1", 5000, Down("pg1"), Down("pg2"), Standby("pg3", received: 3000));
        Assert.Equal("pg3", Assert.IsType<Promote>(Decide(view)).Target);
    }

    [Fact]
    public void waits_after_a_failed_promotion_then_retries()
    {
        var time = new FakeTimeProvider(Now);
        var health = new PrimaryHealth(5, Now.AddSeconds(-10), Now);
        var view = View("pg1", 1000, Down("pg1"), Standby("pg2"));
        Assert.Equal("retry_wait", Assert.IsType<HoldFailover>(Decide(view, health: health, now: time.GetUtcNow())).Label);
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.IsType<Promote>(Decide(view, health: health, now: time.GetUtcNow()));
    }

    [Fact]
    public void two_writable_nodes_fence_the_one_that_is_not_recorded()
    {
        var split = Assert.IsType<ResolveSplitBrain>(Decide(View("pg2", null, Primary("pg1"), Primary("pg2", timeline: 2)), new FailoverState { Primary = "pg2" }, PrimaryHealth.Initial));
        Assert.Equal("pg2", split.Keep);
        Assert.Equal(["pg1"], split.Fence);
    }

    [Fact]
    public void split_brain_without_record_keeps_the_newest_timeline()
    {
        var split = Assert.IsType<ResolveSplitBrain>(Decide(View(null, null, Primary("pg1", timeline: 1), Primary("pg2", timeline: 2)), FailoverState.Empty, PrimaryHealth.Initial));
        Assert.Equal("pg2", split.Keep);
    }

    [Fact]
    public void returning_old_primary_is_never_adopted_back()
    {
        // After a failover to pg2, pg1 comes back writable: pg2 stays the primary.
        var state = new FailoverState { Primary = "pg2" };
        var split = Assert.IsType<ResolveSplitBrain>(Decide(View("pg2", null, Primary("pg1"), Primary("pg2", timeline: 2)), state, PrimaryHealth.Initial));
        Assert.Equal("pg2", split.Keep);
    }

    [Fact]
    public void role_change_made_by_hand_is_adopted()
    {
        var decision = Decide(View("pg1", null, Standby("pg1"), Primary("pg2")), health: PrimaryHealth.Initial);
        Assert.Equal("pg2", Assert.IsType<AdoptPrimary>(decision).Node);
    }

    [Fact]
    public void interrupted_failover_whose_target_is_writable_is_finished_not_repeated()
    {
        var state = RecordedPg1 with { InProgress = new FailoverInProgress("pg1", "pg2", Now.AddSeconds(-3)) };
        Assert.IsType<CompleteInterruptedFailover>(Decide(View("pg1", 1000, Down("pg1"), Primary("pg2", timeline: 2)), state));
    }

    [Fact]
    public void interrupted_failover_whose_target_is_still_a_standby_is_abandoned()
    {
        var state = RecordedPg1 with { InProgress = new FailoverInProgress("pg1", "pg2", Now.AddSeconds(-3)) };
        Assert.IsType<AbandonInterruptedFailover>(Decide(View("pg1", 1000, Down("pg1"), Standby("pg2")), state));
    }

    [Fact]
    public void interrupted_failover_waits_while_its_target_is_unreachable()
    {
        var state = RecordedPg1 with { InProgress = new FailoverInProgress("pg1", "pg2", Now.AddSeconds(-3)) };
        Assert.IsType<NoAction>(Decide(View("pg1", 1000, Down("pg1"), Down("pg2")), state));
    }

    [Fact]
    public void read_only_primary_that_answers_is_not_failed_over()
    {
        // default_transaction_read_only on the primary: it answers, out of recovery, not writable. Even with failed
        // probes counted before it answered, it is healthy, not a dead primary to replace.
        var decision = Decide(View("pg1", 1000, Primary("pg1") with { Writable = false }, Standby("pg2")), health: Failures(3));
        Assert.IsType<NoAction>(decision);
        Assert.Equal("primary pg1 is healthy", decision.Reason);

        // The same failures with pg1 not answering do promote: its answer, read-only or not, is what holds it.
        Assert.IsType<Promote>(Decide(View("pg1", 1000, Down("pg1"), Standby("pg2")), health: Failures(3)));
    }

    [Fact]
    public void a_node_writable_while_the_recorded_primary_is_down_is_adopted_and_the_old_one_fenced_never_a_second_promotion()
    {
        // pg2 promoted by hand (or a promotion that outlived its wait) while pg1 is dead; pg3 is still a standby.
        var view = View("pg1", 1000, Down("pg1"), Primary("pg2", timeline: 2), Standby("pg3"));
        var adopt = Assert.IsType<AdoptWritable>(Decide(view));
        Assert.Equal("pg2", adopt.Node);
        Assert.Equal("pg1", adopt.OldPrimary);
    }

    [Fact]
    public void the_old_primary_back_writable_while_its_successor_is_down_is_fenced_not_adopted_back()
    {
        // pg1 failed over to pg2; now pg2 is down and pg1 is writable again on its old timeline.
        var state = new FailoverState { Primary = "pg2", History = [new FailoverRecord("pg1", "pg2", Now.AddHours(-1), FailoverResults.Promoted, "failover")] };
        var split = Assert.IsType<ResolveSplitBrain>(Decide(View("pg2", 1000, Primary("pg1"), Down("pg2"), Standby("pg3")), state));
        Assert.Equal("pg2", split.Keep);
        Assert.Equal(["pg1"], split.Fence);
        Assert.Contains("never adopting it back", split.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void no_other_standby_is_promoted_while_a_given_up_promotion_may_still_complete()
    {
        // pg2 got pg_promote and timed out, its startup process stopped; pg3 is a fine standby.
        var state = RecordedPg1 with { PromotionPending = "pg2" };
        var view = View("pg1", 1000, Down("pg1"), Standby("pg2"), Standby("pg3"));
        Assert.Equal("promotion_pending", Assert.IsType<HoldFailover>(Decide(view, state)).Label);
        Assert.Equal("pg2", Assert.IsType<Promote>(Decide(view, RecordedPg1)).Target);

        // Should it finish after all, it is adopted.
        Assert.Equal("pg2", Assert.IsType<AdoptWritable>(Decide(View("pg1", 1000, Down("pg1"), Primary("pg2", timeline: 2), Standby("pg3")), state)).Node);
    }

    [Fact]
    public void a_primary_replaced_two_failovers_ago_back_writable_on_its_old_timeline_is_fenced_not_adopted()
    {
        // pg1 -> pg2 -> pg3; pg3 is down and pg1 is writable again on timeline 1 (its fence did not survive a reboot).
        var state = new FailoverState
        {
            Primary = "pg3",
            Timelines = [new("pg1", 1), new("pg2", 2), new("pg3", 3)],
            History = [new FailoverRecord("pg1", "pg2", Now.AddHours(-2), FailoverResults.Promoted, "failover"), new FailoverRecord("pg2", "pg3", Now.AddHours(-1), FailoverResults.Promoted, "failover")],
        };
        var split = Assert.IsType<ResolveSplitBrain>(Decide(View("pg3", 1000, Primary("pg1", timeline: 1), Standby("pg2"), Down("pg3")), state));
        Assert.Equal(["pg1"], split.Fence);
        Assert.Contains("timeline 1, not after timeline 3", split.Reason, StringComparison.Ordinal);

        // A node promoted by hand from pg3's timeline descends from it and is adopted.
        Assert.Equal("pg2", Assert.IsType<AdoptWritable>(Decide(View("pg3", 1000, Standby("pg1"), Primary("pg2", timeline: 4), Down("pg3")), state)).Node);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void never_promotes_while_any_node_is_writable(bool paused, bool autoFailover)
    {
        var view = View("pg1", 1000, Down("pg1"), Primary("pg2", timeline: 2), Standby("pg3"));
        foreach (var failures in new[] { 0, 1, 3, 50 })
        {
            var decision = Decide(view, RecordedPg1 with { Paused = paused }, Failures(failures), Settings with { AutoFailover = autoFailover });
            Assert.IsNotType<Promote>(decision);
        }
    }

    [Fact]
    public void a_writable_node_is_not_adopted_before_the_recorded_primary_failed_threshold_probes()
    {
        var decision = Decide(View("pg1", 1000, Down("pg1"), Primary("pg2", timeline: 2)), health: Failures(2));
        Assert.IsType<NoAction>(decision);
    }

    [Fact]
    public void split_brain_is_handled_while_a_failover_is_still_recorded_as_under_way()
    {
        // The failover to pg2 is under way (its target never answered since); pg1 and pg3 are both writable.
        var state = RecordedPg1 with { InProgress = new FailoverInProgress("pg1", "pg2", Now.AddMinutes(-5)) };
        var split = Assert.IsType<ResolveSplitBrain>(Decide(View("pg1", 1000, Primary("pg1"), Down("pg2"), Primary("pg3", timeline: 2)), state));
        Assert.Equal("pg1", split.Keep);
        Assert.Equal(["pg3"], split.Fence);
    }

    [Fact]
    public void split_brain_during_a_failover_keeps_the_node_promoted_on_purpose()
    {
        var state = RecordedPg1 with { InProgress = new FailoverInProgress("pg1", "pg2", Now.AddSeconds(-5), Now.AddSeconds(-4)) };
        var split = Assert.IsType<ResolveSplitBrain>(Decide(View("pg1", 1000, Primary("pg1"), Primary("pg2", timeline: 2)), state));
        Assert.Equal("pg2", split.Keep);
        Assert.Equal(["pg1"], split.Fence);
    }

    [Fact]
    public void a_slow_promotion_is_watched_until_promotion_timeout_then_counted_failed()
    {
        var time = new FakeTimeProvider(Now);
        var state = RecordedPg1 with { InProgress = new FailoverInProgress("pg1", "pg2", Now, PromoteSentAt: Now) };
        var view = View("pg1", 5000, Down("pg1"), Standby("pg2", received: 5000, replayed: 2000));

        time.Advance(TimeSpan.FromSeconds(59));
        var waiting = Assert.IsType<NoAction>(Decide(view, state, now: time.GetUtcNow()));
        Assert.Contains("pg_promote was sent to pg2 59s ago; waiting up to 60s", waiting.Reason, StringComparison.Ordinal);
        Assert.Contains("3000 bytes of received WAL left to replay", waiting.Reason, StringComparison.Ordinal);
        Assert.IsType<NoAction>(Decide(View("pg1", 5000, Down("pg1"), Down("pg2")), state, now: time.GetUtcNow()));

        time.Advance(TimeSpan.FromSeconds(1));
        var failed = Assert.IsType<AbandonInterruptedFailover>(Decide(view, state, now: time.GetUtcNow()));
        Assert.Contains("did not become writable within 60s", failed.Reason, StringComparison.Ordinal);
        Assert.IsType<CompleteInterruptedFailover>(Decide(View("pg1", 5000, Down("pg1"), Primary("pg2", timeline: 2)), state, now: time.GetUtcNow()));
    }

    [Fact]
    public void unknown_primary_position_holds_the_failover_rather_than_reading_as_zero_lag()
    {
        // The monitor never saw pg1 healthy and no position was saved: what pg2 lacks cannot be measured.
        var hold = Assert.IsType<HoldFailover>(Decide(View("pg1", null, Down("pg1"), Standby("pg2", received: 1000))));
        Assert.Equal("unknown_position", hold.Label);
        Assert.Contains("last WAL position is unknown", hold.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void primary_that_answers_but_cannot_commit_is_failed_over_even_while_standby_streams()
    {
        var view = View("pg1", 1000, Down("pg1", ProbeFailureKind.WriteFailed), Standby("pg2", streaming: true));
        Assert.IsType<Promote>(Decide(view));
    }
}
