using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Failover;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace FailoverWatch.Tests.Coordination;

/// <summary>
/// Coordination against an in-memory etcd on a fake clock: a monitor registers, publishes and leads whatever etcd
/// does to its transactions and leases, leads only while its lease is valid by the monotonic clock, and the votes
/// it counts do not depend on the other monitors' clocks.
/// </summary>
public sealed class ClusterCoordinationTests
{
    private static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(5);
    private static readonly EtcdKeys Keys = EtcdKeys.For("/failoverwatch", "test");
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
    private readonly InMemoryEtcd _etcd;

    public ClusterCoordinationTests() => _etcd = new InMemoryEtcd(_clock);

    [Fact]
    public async Task a_register_resent_after_its_first_attempt_committed_late_counts_and_the_monitor_publishes_and_leads()
    {
        var fw1 = Monitor("fw1");
        _etcd.LoseAnswerOnce(txn => InMemoryEtcd.Touches(txn, Keys.Monitor("fw1")));

        await fw1.TickAsync(CancellationToken.None);

        Assert.True(fw1.Membership.Registered);
        Assert.True(fw1.IsLeader);
        fw1.Observe("pg1", 1);
        Assert.Equal(1, MonitorView.Parse(_etcd.Get(Keys.Monitor("fw1"))!.Value.Span)!.PrimaryFailures);
    }

    [Fact]
    public async Task an_election_resent_after_its_first_attempt_committed_late_finds_itself_the_holder_and_leads_at_once()
    {
        var fw1 = Monitor("fw1");
        _etcd.LoseAnswerOnce(txn => InMemoryEtcd.Touches(txn, Keys.Leader));

        await fw1.TickAsync(CancellationToken.None);

        Assert.True(fw1.IsLeader);
        Assert.Equal("fw1", fw1.Leader);
    }

    [Fact]
    public async Task every_lease_revoked_at_once_the_monitors_register_again_and_one_leads_again()
    {
        var (fw1, fw2) = await TwoMonitorsLedByFw1Async();

        _etcd.RevokeAllLeases();
        await TickAsync(fw1, fw2);

        Assert.True(fw1.Membership.Registered && fw2.Membership.Registered);
        Assert.True(fw1.IsLeader ^ fw2.IsLeader);
        Assert.Equal(2, fw2.Monitors.Count);
    }

    [Fact]
    public async Task its_own_key_left_under_a_lease_etcd_expired_is_moved_to_the_new_lease()
    {
        var fw1 = Monitor("fw1");
        await fw1.TickAsync(CancellationToken.None);
        _etcd.ExpireKeepingKeys(_etcd.Get(Keys.Monitor("fw1"))!.Lease);

        // Nothing is deleted, so only the next renewal (a third of lease_ttl on) finds out.
        _clock.Advance(LeaseTtl / 3);
        await fw1.TickAsync(CancellationToken.None);

        Assert.True(fw1.Membership.Registered);
        fw1.Observe("pg1", 2);
        Assert.Equal(2, MonitorView.Parse(_etcd.Get(Keys.Monitor("fw1"))!.Value.Span)!.PrimaryFailures);
    }

    [Fact]
    public async Task a_publish_refused_because_the_lease_changed_registers_again_at_the_next_tick()
    {
        var fw1 = Monitor("fw1");
        await fw1.TickAsync(CancellationToken.None);
        _etcd.RevokeAllLeases();

        fw1.Observe("pg1", 1);
        Assert.False(fw1.Membership.Registered);
        await fw1.TickAsync(CancellationToken.None);
        fw1.Observe("pg1", 2);

        Assert.True(fw1.Membership.Registered);
        Assert.Equal(2, MonitorView.Parse(_etcd.Get(Keys.Monitor("fw1"))!.Value.Span)!.PrimaryFailures);
    }

    [Fact]
    public async Task a_publish_that_fails_is_sent_with_the_next_round_and_a_view_observed_during_a_write_follows_it()
    {
        var fw1 = Monitor("fw1");
        await fw1.TickAsync(CancellationToken.None);

        _etcd.Down = true;
        fw1.Observe("pg1", 1);
        _etcd.Down = false;
        _etcd.Stalled = new TaskCompletionSource();
        fw1.Observe("pg1", 2);
        fw1.Observe("pg1", 3);
        _etcd.Stalled.SetResult();
        _etcd.Stalled = null;
        await fw1.Membership.Publishing;

        Assert.Equal(3, MonitorView.Parse(_etcd.Get(Keys.Monitor("fw1"))!.Value.Span)!.PrimaryFailures);
    }

    [Fact]
    public async Task leadership_ends_by_the_monotonic_clock_even_when_the_wall_clock_steps_back()
    {
        var wall = new SkewedClock(_clock);
        var fw1 = Monitor("fw1", wall);
        await fw1.TickAsync(CancellationToken.None);
        Assert.True(fw1.IsLeader);

        _etcd.Down = true;
        wall.Offset = TimeSpan.FromMinutes(-10);
        _clock.Advance(LeaseTtl - _etcd.CallTimeout - TimeSpan.FromMilliseconds(1));
        Assert.True(fw1.IsLeader);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.False(fw1.IsLeader);
    }

    [Fact]
    public async Task votes_count_whatever_the_publishers_clocks_say_even_30s_off()
    {
        var fw1 = Monitor("fw1");
        var fw2 = Monitor("fw2", new SkewedClock(_clock) { Offset = TimeSpan.FromSeconds(30) });
        var fw3 = Monitor("fw3", new SkewedClock(_clock) { Offset = TimeSpan.FromSeconds(-30) });
        await TickAsync(fw1, fw2, fw3);

        fw2.Observe("pg1", 3);
        fw3.Observe("pg1", 3);
        await fw1.TickAsync(CancellationToken.None);

        var quorum = fw1.Quorum("pg1", 0);
        Assert.True(fw1.IsLeader);
        Assert.Equal(3, quorum.LiveMonitors);
        Assert.Equal(["fw2", "fw3"], quorum.SeeingPrimaryDown);
        Assert.True(quorum.MajoritySeesPrimaryDown);
    }

    [Fact]
    public async Task a_monitor_that_stops_publishing_stops_counting_though_its_lease_lives()
    {
        var fw1 = Monitor("fw1");
        var fw2 = Monitor("fw2");
        var fw3 = Monitor("fw3");
        await TickAsync(fw1, fw2, fw3);
        fw2.Observe("pg1", 3);
        fw3.Observe("pg1", 3);
        await fw1.TickAsync(CancellationToken.None);
        Assert.True(fw1.Quorum("pg1", 3).MajoritySeesPrimaryDown);

        // fw3 keeps its lease (its loop ticks) but publishes nothing more: its probe rounds are stuck.
        for (var i = 0; i < 8; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            fw2.Observe("pg1", 4 + i);
            await TickAsync(fw1, fw2, fw3);
        }

        var quorum = fw1.Quorum("pg1", 3);
        Assert.Equal(3, fw1.Monitors.Count);
        Assert.Equal(2, quorum.LiveMonitors);
        Assert.Equal(["fw1", "fw2"], quorum.SeeingPrimaryDown);
    }

    [Fact]
    public async Task an_action_is_recorded_under_the_leaders_token_and_a_command_gets_the_token()
    {
        var fw1 = Monitor("fw1");
        await fw1.TickAsync(CancellationToken.None);
        var marker = Path.Combine(Directory.CreateTempSubdirectory("fw-guard-").FullName, "ran");

        Assert.True(await Runner(fw1).RunAsync(ClusterCommandRunner.Fence, $"echo \"$FW_FENCING_TOKEN\" > {marker}", "pg1", ClusterCommandRunner.FailoverEvent, "pg1", "pg2", CancellationToken.None));

        var token = _etcd.Get(Keys.Leader)!.CreateRevision;
        Assert.Equal(token.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(marker).Trim());
        Assert.Contains($"\"action\":\"fence\",\"node\":\"pg1\",\"monitor\":\"fw1\",\"token\":{token}", _etcd.Get(Keys.Action)!.Value.ToStringUtf8(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_leader_deposed_while_it_still_believes_it_leads_runs_no_command_and_promotes_nothing()
    {
        var (fw1, fw2) = await TwoMonitorsLedByFw1Async();

        // fw1's lease goes (as when etcd's raft leader resumes from a pause) and fw2 is elected before fw1 ticks again.
        _etcd.RevokeAllLeases();
        await fw2.TickAsync(CancellationToken.None);
        await fw2.TickAsync(CancellationToken.None);
        Assert.True(fw1.IsLeader && fw2.IsLeader);
        var marker = Path.Combine(Directory.CreateTempSubdirectory("fw-guard-").FullName, "ran");

        Assert.False(await Runner(fw1).RunAsync(ClusterCommandRunner.Fence, $"touch {marker}", "pg1", ClusterCommandRunner.FailoverEvent, "pg1", "pg2", CancellationToken.None));
        Assert.False(File.Exists(marker));
        Assert.False(fw1.IsLeader);
        Assert.NotNull(await new NodePromoter(Options("fw1"), fw1).RequestPromotionAsync("pg2", CancellationToken.None));
        Assert.Equal(await fw2.GuardActionAsync("promote", "pg2", CancellationToken.None), _etcd.Get(Keys.Leader)!.CreateRevision);
    }

    [Fact]
    public async Task no_action_without_etcd_or_once_the_lease_may_have_run_out()
    {
        var fw1 = Monitor("fw1");
        await fw1.TickAsync(CancellationToken.None);

        _etcd.Down = true;
        Assert.Null(await fw1.GuardActionAsync("promote", "pg2", CancellationToken.None));
        _etcd.Down = false;
        Assert.NotNull(await fw1.GuardActionAsync("promote", "pg2", CancellationToken.None));

        _clock.Advance(LeaseTtl - _etcd.CallTimeout);
        Assert.False(fw1.IsLeader);
        Assert.Null(await fw1.GuardActionAsync("promote", "pg2", CancellationToken.None));
    }

    [Fact]
    public async Task a_switchover_record_is_the_leaders_alone_expires_and_a_new_leader_is_handed_it_before_it_leads()
    {
        var fw1 = Monitor("fw1");
        var fw2 = Monitor("fw2");
        await TickAsync(fw1, fw2);
        var record = new SwitchoverRecord("pg1", "pg2", SwitchoverRecord.Stopping, "fw1", _clock.GetUtcNow());
        await fw1.RecordSwitchoverAsync(record, CancellationToken.None);
        await Assert.ThrowsAsync<EtcdStateWriteException>(() => fw2.RecordSwitchoverAsync(null, CancellationToken.None));
        (SwitchoverRecord Record, bool Leading)? handed = null;
        fw2.OnSwitchoverFound((found, _) =>
        {
            handed = (found, fw2.IsLeader);
            return Task.CompletedTask;
        });

        // fw1 dies mid-way: its lease goes, fw2 is elected and is handed the switchover while it does not lead yet.
        await _etcd.RevokeAsync(_etcd.Get(Keys.Leader)!.Lease, CancellationToken.None);
        await fw2.TickAsync(CancellationToken.None);

        Assert.True(fw2.IsLeader);
        Assert.Equal((record, false), handed);
        _clock.Advance(SwitchoverRecord.Lifetime);
        Assert.Null(_etcd.Get(Keys.Switchover));
    }

    [Fact]
    public async Task the_leader_alone_compacts_old_revisions_once_per_thousand_and_a_refusal_is_said_once()
    {
        var fw1 = Monitor("fw1");
        var fw2 = Monitor("fw2");
        await TickAsync(fw1, fw2);
        for (var i = 0; i < 2100; i++)
        {
            fw2.Observe("pg1", i % 2);
        }

        await TickAsync(fw2, fw1);
        var first = _etcd.CompactedTo;
        Assert.InRange(first, 1000, _etcd.Get(Keys.Monitor("fw2"))!.ModRevision - 1000);
        fw2.Observe("pg1", 7);
        await fw1.TickAsync(CancellationToken.None);
        Assert.Equal(first, _etcd.CompactedTo);

        var refused = new FakeLogger<ClusterCoordination>();
        var fw3 = Monitor("fw3", logger: refused);
        _etcd.CompactDenied = true;
        await _etcd.RevokeAsync(_etcd.Get(Keys.Leader)!.Lease, CancellationToken.None);
        await fw3.TickAsync(CancellationToken.None);
        for (var i = 0; i < 2100; i++)
        {
            fw3.Observe("pg1", i % 2);
        }

        await fw3.TickAsync(CancellationToken.None);
        await fw3.TickAsync(CancellationToken.None);
        Assert.True(fw3.IsLeader);
        Assert.Single(refused.Collector.GetSnapshot(), r => r.Message.Contains("Compact needs the root role", StringComparison.Ordinal));
    }

    [Fact]
    public async Task the_leader_decides_the_moment_a_published_view_makes_the_majority_through_its_watch_without_reading_again()
    {
        var (fw1, fw2, fw3) = await ThreeMonitorsLedByFw1Async();
        var decided = Decisions(fw1);
        using var stop = new CancellationTokenSource();
        var watching = fw1.WatchGroupAsync(stop.Token);

        fw2.Observe("pg1", 3);
        await fw2.Membership.Publishing;
        fw3.Observe("pg1", 3);
        await fw3.Membership.Publishing;

        // No tick and no clock: only the watch can have brought the views.
        await decided.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["fw2", "fw3"], fw1.Quorum("pg1", 0).SeeingPrimaryDown);
        Assert.Equal((1, 1), (_etcd.PrefixReads, _etcd.WatchesOpened));
        await stop.CancelAsync();
        await watching;
    }

    [Fact]
    public async Task a_broken_watch_resumes_from_its_last_revision_and_one_compacted_meanwhile_reads_afresh_then_watches_from_that_read()
    {
        var (fw1, fw2, fw3) = await ThreeMonitorsLedByFw1Async();
        var decided = Decisions(fw1);
        using var stop = new CancellationTokenSource();
        var watching = fw1.WatchGroupAsync(stop.Token);
        await Eventually(() => _etcd.WatchesOpened == 1, advance: false);

        // Broken: fw2's view committed meanwhile comes with the resumed stream, not from a read.
        fw2.Observe("pg1", 1);
        await fw2.Membership.Publishing;
        await Eventually(() => fw1.GroupWatched, advance: false);
        var resumeFrom = _etcd.Revision + 1;
        _etcd.BreakWatches();
        fw2.Observe("pg1", 3);
        await fw2.Membership.Publishing;
        await Eventually(() => _etcd.WatchesOpened == 2, advance: true);
        await Eventually(() => fw1.Quorum("pg1", 0).SeeingPrimaryDown is ["fw2"], advance: false);
        Assert.Equal((1, resumeFrom), (_etcd.PrefixReads, _etcd.LastWatchFrom));

        // Broken again and the history compacted past where it stopped (ErrCompacted): read, then watched from the read.
        await Eventually(() => fw1.GroupWatched, advance: false);
        _etcd.BreakWatches();
        fw3.Observe("pg1", 3);
        await fw3.Membership.Publishing;
        await _etcd.CompactAsync(_etcd.Revision, CancellationToken.None);
        var readAt = _etcd.Revision;
        await Eventually(() => _etcd.WatchesOpened == 4, advance: true);
        Assert.Equal((2, readAt + 1), (_etcd.PrefixReads, _etcd.LastWatchFrom));
        await decided.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["fw2", "fw3"], fw1.Quorum("pg1", 0).SeeingPrimaryDown);
        await stop.CancelAsync();
        await watching;
    }

    [Fact]
    public async Task a_leader_killed_before_recording_any_primary_is_followed_by_one_told_which_node_the_majority_last_saw_writable()
    {
        var (fw1, fw2, fw3) = await ThreeMonitorsLedByFw1Async();
        fw2.Observe(null, 0, "pg1");
        fw3.Observe(null, 0, "pg1");
        await Task.WhenAll(fw2.Membership.Publishing, fw3.Membership.Publishing);
        Assert.Null(_etcd.Get(Keys.State));
        var decided = Decisions(fw2);

        // fw1 dies (its lease goes) before any round of its recorded pg1; the primary dies with it, so no node is writable.
        await _etcd.RevokeAsync(_etcd.Get(Keys.Leader)!.Lease, CancellationToken.None);
        fw2.Observe(null, 0, null);
        await fw2.Membership.Publishing;
        await fw2.TickAsync(CancellationToken.None);

        // Elected, it decides at once (no round later), and both live monitors name pg1.
        Assert.True(fw2.IsLeader);
        Assert.True(decided.Task.IsCompleted);
        var quorum = fw2.Quorum(null, 0);
        Assert.Equal((2, "pg1"), (quorum.LiveMonitors, quorum.LastWritable));
        Assert.Equal("pg1", MonitorView.Parse(_etcd.Get(Keys.Monitor("fw2"))!.Value.Span)!.LastWritable);
    }

    [Fact]
    public async Task a_leader_whose_renewal_failed_once_leads_again_at_the_next_tick_while_its_watch_delivers()
    {
        var fw1 = Monitor("fw1");
        using var stop = new CancellationTokenSource();
        await fw1.StartAsync(stop.Token);
        await Eventually(() => fw1.IsLeader, advance: false);
        fw1.Observe("pg1", 0);
        await Eventually(() => fw1.GroupWatched, advance: false);

        // One keep-alive lost (a loaded etcd), the watch untouched: the failed tick forgets who leads.
        _etcd.FailingKeepAlives = 1;
        await Eventually(() => _etcd.FailingKeepAlives == 0 && !fw1.IsLeader, advance: true);

        // Its lease and its leader key never went: it leads again at the next tick (a third of lease_ttl on), not at the
        // next group read (10 s); the bound leaves room for the fake clock running ahead of the loop's thread.
        var failedAt = _clock.GetTimestamp();
        await Eventually(() => fw1.IsLeader, advance: true);
        Assert.InRange(_clock.GetElapsedTime(failedAt), TimeSpan.Zero, LeaseTtl);
        Assert.Equal("fw1", fw1.Leader);
        await fw1.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void a_view_an_older_monitor_published_without_last_writable_still_counts()
    {
        var view = MonitorView.Parse("""{"name":"fw2","instance":"i","http":"http://127.0.0.1:1","primary":"pg1","primary_failures":3,"sees_primary":false,"seen_at":"2026-12-04T12:00:00+00:00"}"""u8);
        Assert.Equal(("fw2", 3, null), (view!.Name, view.PrimaryFailures, view.LastWritable));
    }

    [Fact]
    public async Task idle_monitors_renew_every_third_of_lease_ttl_read_the_group_every_10s_republish_unchanged_views_rarely_and_their_votes_stay_fresh()
    {
        var (fw1, fw2, fw3) = await ThreeMonitorsLedByFw1Async();
        ClusterCoordination[] all = [fw1, fw2, fw3];
        using var stop = new CancellationTokenSource();
        var watching = all.Select(m => m.WatchGroupAsync(stop.Token)).ToList();
        await Eventually(() => _etcd.WatchesOpened == 3, advance: false);
        Observe(all);
        await Eventually(() => all.All(m => m.GroupWatched), advance: false);
        await TickAsync(all);
        var (reads, renewals, published) = (_etcd.GroupReads, _etcd.KeepAlives, _etcd.Get(Keys.Monitor("fw2"))!.Version);

        // 30 s of one-second rounds that change nothing.
        for (var second = 1; second <= 30; second++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            Observe(all);
            await Task.WhenAll(all.Select(m => m.Membership.Publishing));

            // The fake clock runs ahead of the watch's thread: the leader is given what etcd holds before time moves on.
            await Eventually(() => fw1.Monitors.Count == 3 && fw1.Monitors.All(view => view == MonitorView.Parse(_etcd.Get(Keys.Monitor(view.Name))!.Value.Span)), advance: false);
            await TickAsync(all);
            Assert.Equal(3, fw1.Quorum("pg1", 0).LiveMonitors);
        }

        // Renewed every 2 s (the first round past 5/3 s), read every 10 s, republished every 3 s (the first round past 7/3 s).
        Assert.InRange(_etcd.KeepAlives - renewals, 3 * 14, 3 * 16);
        Assert.InRange(_etcd.GroupReads - reads, 3 * 2, 3 * 3);
        Assert.InRange(_etcd.Get(Keys.Monitor("fw2"))!.Version - published, 9, 11);

        // A changed view goes out at once; a leader gone is replaced at the next tick, not at the next read.
        fw2.Observe("pg1", 1, "pg1");
        Assert.Equal(1, MonitorView.Parse(_etcd.Get(Keys.Monitor("fw2"))!.Value.Span)!.PrimaryFailures);
        await _etcd.RevokeAsync(_etcd.Get(Keys.Leader)!.Lease, CancellationToken.None);
        for (var attempt = 0; !fw2.IsLeader && !fw3.IsLeader; attempt++)
        {
            Assert.True(attempt < 400, "no new leader within 20 s");
            await Task.Delay(50);
            await TickAsync(fw2, fw3);
        }

        await stop.CancelAsync();
        await Task.WhenAll(watching);
    }

    private async Task<(ClusterCoordination Fw1, ClusterCoordination Fw2, ClusterCoordination Fw3)> ThreeMonitorsLedByFw1Async()
    {
        var fw1 = Monitor("fw1");
        var fw2 = Monitor("fw2");
        var fw3 = Monitor("fw3");
        await TickAsync(fw1, fw2, fw3);
        await TickAsync(fw1, fw2, fw3);
        Assert.True(fw1.IsLeader);
        fw1.Observe("pg1", 0);
        await fw1.Membership.Publishing;
        return (fw1, fw2, fw3);
    }

    private static void Observe(ClusterCoordination[] monitors)
    {
        foreach (var monitor in monitors)
        {
            monitor.Observe("pg1", 0, "pg1");
        }
    }

    private static TaskCompletionSource Decisions(ClusterCoordination leader)
    {
        var decided = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        leader.OnMajority(_ =>
        {
            decided.TrySetResult();
            return Task.CompletedTask;
        });
        return decided;
    }

    /// <summary>Polls on real time; with <paramref name="advance"/> the fake clock moves 100 ms a step (the watch's retry pause is on it).</summary>
    private async Task Eventually(Func<bool> condition, bool advance)
    {
        for (var step = 0; !condition(); step++)
        {
            Assert.True(step < 400, "condition not met within 20 s");
            if (advance)
            {
                _clock.Advance(TimeSpan.FromMilliseconds(100));
            }

            await Task.Delay(50);
        }
    }

    private ClusterCommandRunner Runner(ClusterCoordination leadership) =>
        new(Options(leadership.MonitorName), Metrics(), new FakeLogger<ClusterCommandRunner>(), leadership);

    private async Task<(ClusterCoordination Fw1, ClusterCoordination Fw2)> TwoMonitorsLedByFw1Async()
    {
        var fw1 = Monitor("fw1");
        var fw2 = Monitor("fw2");
        await TickAsync(fw1, fw2);
        Assert.True(fw1.IsLeader);
        return (fw1, fw2);
    }

    private static async Task TickAsync(params ClusterCoordination[] monitors)
    {
        foreach (var monitor in monitors)
        {
            await monitor.TickAsync(CancellationToken.None);
        }
    }

    private ClusterCoordination Monitor(string name, TimeProvider? time = null, FakeLogger<ClusterCoordination>? logger = null)
    {
        time ??= _clock;
        var fence = new LeaderFence();
        return new ClusterCoordination(
            Options(name),
            _etcd,
            Keys,
            new EtcdStateStore(_etcd, Keys, fence, new FakeLogger<EtcdStateStore>()),
            fence,
            Metrics(),
            new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance),
            time,
            logger ?? new FakeLogger<ClusterCoordination>());
    }

    private static FailoverWatchOptions Options(string name) => new()
    {
        Cluster = new ClusterOptions { Name = "test", Nodes = [new NodeOptions { Name = "pg1", Host = "127.0.0.1", Port = 1 }, new NodeOptions { Name = "pg2", Host = "127.0.0.1", Port = 1 }] },
        Monitor = new MonitorOptions { StateFile = "/nonexistent/state.json", ProbeInterval = TimeSpan.FromSeconds(1), FailureThreshold = 3 },
        Hooks = new HooksOptions { Timeout = TimeSpan.FromSeconds(30) },
        Coordination = new CoordinationOptions { MonitorName = name, Etcd = new EtcdOptions { Endpoints = ["http://127.0.0.1:2379"], LeaseTtl = LeaseTtl } },
    };

    private static FailoverWatchMetrics Metrics() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
}
