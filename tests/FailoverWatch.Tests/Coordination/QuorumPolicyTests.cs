using FailoverWatch.Coordination;
using FailoverWatch.Failover;
using FailoverWatch.Monitoring;
using FailoverWatch.State;
using static FailoverWatch.Tests.Failover.Reports;

namespace FailoverWatch.Tests.Coordination;

/// <summary>The quorum rule of several monitors: the votes counted from published views, and the policy's answer to them.</summary>
public sealed class QuorumPolicyTests
{
    private static readonly FailoverPolicySettings Settings = new(
        FailureThreshold: 3, MaxLagOnFailoverBytes: 16 << 20, AutoFailover: true,
        Nodes: [new("pg1", PrimaryAddress, 5432), new("pg2", "10.0.0.2", 5432)], RetryAfterFailedPromotion: TimeSpan.FromSeconds(30), PromotionTimeout: TimeSpan.FromSeconds(60));

    private static readonly FailoverState RecordedPg1 = new() { Primary = "pg1" };

    // The hung primary: no answer, and the standby still says "streaming" until its wal_receiver_timeout.
    private static readonly ClusterView HungPrimary = View("pg1", 1000, Down("pg1", ProbeFailureKind.Timeout), Standby("pg2", streaming: true));

    private static MonitorView Vote(string name, int failures, DateTimeOffset seenAt, string primary = "pg1") =>
        new(name, name + "-instance", "http://127.0.0.1:1", primary, failures, failures < 3, seenAt);

    private static FailoverDecision Decide(ClusterView view, int ownFailures, MonitorQuorum quorum) =>
        FailoverPolicy.Decide(view, RecordedPg1, new PrimaryHealth(ownFailures, Now.AddSeconds(-ownFailures), null), Settings, Now, quorum);

    [Fact]
    public void a_majority_of_live_monitors_seeing_the_primary_down_outweighs_a_standby_that_still_streams()
    {
        var quorum = MonitorVotes.Count([Vote("fw1", 3, Now), Vote("fw2", 4, Now), Vote("fw3", 1, Now)], "pg1", 3);

        var promote = Assert.IsType<Promote>(Decide(HungPrimary, 3, quorum));
        Assert.Equal("pg2", promote.Target);
        Assert.Contains("2 of 3 live monitors see it down (fw1, fw2)", promote.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void the_majority_decides_even_before_the_leader_itself_has_counted_to_the_threshold()
    {
        // A leader elected a moment ago (its predecessor died with the primary) acts on the others' counts at once.
        var quorum = MonitorVotes.Count([Vote("fw2", 3, Now), Vote("fw3", 3, Now)], "pg1", 3);
        Assert.IsType<Promote>(Decide(View("pg1", 1000, Down("pg1"), Standby("pg2")), 0, quorum));
    }

    [Fact]
    public void one_monitor_cut_off_from_the_primary_holds_the_failover()
    {
        var quorum = MonitorVotes.Count([Vote("fw1", 5, Now), Vote("fw2", 0, Now), Vote("fw3", 0, Now)], "pg1", 3);

        var hold = Assert.IsType<HoldFailover>(Decide(View("pg1", 1000, Down("pg1"), Standby("pg2")), 5, quorum));
        Assert.Equal("no_quorum", hold.Label);
        Assert.Contains("only 1 of 3 live monitors see it down (fw1)", hold.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pg1,pg1,", "pg1")]
    [InlineData("pg1,pg1,pg1", "pg1")]
    [InlineData("pg1,,", null)]
    [InlineData("pg1,pg1,pg2", null)]
    [InlineData("pg1,pg1,,", null)]
    [InlineData("pg1", "pg1")]
    public void the_node_last_seen_writable_is_taken_only_as_a_failover_would_be_decided(string lastWritable, string? agreed)
    {
        MonitorView[] views = [.. lastWritable.Split(',').Select((node, i) => Vote($"fw{i}", 0, Now, primary: null!) with { LastWritable = node.Length > 0 ? node : null })];
        Assert.Equal(agreed, MonitorVotes.Count(views, null, 3).LastWritable);
    }

    [Fact]
    public void with_no_primary_recorded_the_node_the_majority_last_saw_writable_is_recorded_once_it_does_not_answer_then_failed_over()
    {
        var quorum = MonitorVotes.Count([.. new[] { "fw1", "fw2", "fw3" }.Select(m => Vote(m, 0, Now, primary: null!) with { LastWritable = m == "fw3" ? null : "pg1" })], null, 3);
        var down = View(null, 1000, Down("pg1"), Standby("pg2"));

        var adopt = Assert.IsType<AdoptPrimary>(FailoverPolicy.Decide(down, FailoverState.Empty, PrimaryHealth.Initial, Settings, Now, quorum));
        Assert.Equal("pg1", adopt.Node);
        Assert.IsType<NoAction>(FailoverPolicy.Decide(View(null, 1000, Standby("pg1"), Standby("pg2")), FailoverState.Empty, PrimaryHealth.Initial, Settings, Now, quorum));
        Assert.IsType<NoAction>(FailoverPolicy.Decide(down, FailoverState.Empty, PrimaryHealth.Initial, Settings, Now, MonitorVotes.Count([Vote("fw1", 0, Now, primary: null!) with { LastWritable = "pg1" }, Vote("fw2", 0, Now, primary: null!)], null, 3)));

        // Recorded, it fails over as any primary once the majority sees it down.
        var failures = MonitorVotes.Count([Vote("fw1", 3, Now), Vote("fw2", 3, Now), Vote("fw3", 0, Now)], "pg1", 3);
        Assert.IsType<Promote>(Decide(down, 3, failures));
    }

    [Fact]
    public void two_of_four_is_no_majority()
    {
        var quorum = MonitorVotes.Count([Vote("a", 3, Now), Vote("b", 3, Now), Vote("c", 0, Now), Vote("d", 0, Now)], "pg1", 3);
        Assert.Equal("no_quorum", Assert.IsType<HoldFailover>(Decide(HungPrimary, 3, quorum)).Label);
    }

    [Fact]
    public void votes_about_another_primary_do_not_count()
    {
        var quorum = MonitorVotes.Count([Vote("fw1", 3, Now), Vote("fw2", 9, Now, primary: "pg2")], "pg1", 3);

        Assert.Equal(["fw1"], quorum.SeeingPrimaryDown);
        Assert.False(quorum.MajoritySeesPrimaryDown);
    }

    [Fact]
    public void with_one_live_monitor_the_single_monitor_rules_apply_and_a_streaming_standby_holds()
    {
        var quorum = MonitorVotes.Count([Vote("fw1", 3, Now)], "pg1", 3);

        Assert.False(quorum.Votes);
        Assert.Equal("standby_streaming", Assert.IsType<HoldFailover>(Decide(HungPrimary, 3, quorum)).Label);
        Assert.IsType<Promote>(Decide(View("pg1", 1000, Down("pg1"), Standby("pg2")), 3, quorum));
    }

    [Fact]
    public void a_majority_still_respects_pause_and_the_lag_limit()
    {
        var quorum = MonitorVotes.Count([Vote("fw1", 3, Now), Vote("fw2", 3, Now), Vote("fw3", 3, Now)], "pg1", 3);
        var paused = FailoverPolicy.Decide(HungPrimary, RecordedPg1 with { Paused = true }, new PrimaryHealth(3, null, null), Settings, Now, quorum);
        Assert.Equal("paused", Assert.IsType<HoldFailover>(paused).Label);

        var behind = View("pg1", 100_000_000, Down("pg1"), Standby("pg2", received: 1000, streaming: true));
        Assert.IsType<RefuseLag>(Decide(behind, 3, quorum));
    }

    [Fact]
    public void a_majority_that_sees_the_primary_down_decides_even_when_the_leader_reaches_it_and_it_is_a_switchover()
    {
        var quorum = MonitorVotes.Count([Vote("fw1", 0, Now), Vote("fw2", 3, Now), Vote("fw3", 3, Now)], "pg1", 3);
        var reachable = View("pg1", 1000, Primary("pg1"), Standby("pg2", streaming: true));

        var switchover = Assert.IsType<QuorumSwitchover>(Decide(reachable, 0, quorum));
        Assert.Equal(("pg2", "pg1"), (switchover.Target, switchover.OldPrimary));
        Assert.Contains("2 of 3 live monitors see it down (fw2, fw3)", switchover.Reason, StringComparison.Ordinal);

        // Still under pause and auto_failover, and only to a standby that streams, so it can catch up.
        Assert.Equal("paused", Assert.IsType<HoldFailover>(FailoverPolicy.Decide(reachable, RecordedPg1 with { Paused = true }, new PrimaryHealth(0, Now, null), Settings, Now, quorum)).Label);
        Assert.Equal("no_standby", Assert.IsType<HoldFailover>(Decide(View("pg1", 1000, Primary("pg1"), Standby("pg2", streaming: false)), 0, quorum)).Label);

        // One monitor alone cut off from a primary the leader reaches changes nothing.
        Assert.IsType<NoAction>(Decide(reachable, 0, MonitorVotes.Count([Vote("fw1", 0, Now), Vote("fw2", 3, Now), Vote("fw3", 0, Now)], "pg1", 3)));
    }
}
