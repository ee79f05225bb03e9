using System.Net;
using System.Net.Sockets;
using FailoverWatch.Configuration;
using FailoverWatch.Failover;
using FailoverWatch.Incidents;
using FailoverWatch.Monitoring;
using FailoverWatch.Rejoin;
using FailoverWatch.State;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using static FailoverWatch.Tests.Failover.Reports;

namespace FailoverWatch.Tests.Failover;

/// <summary>
/// The coordinator on a fake clock, its fences and hooks real shell commands that leave markers, its nodes on a
/// closed port (so a checkpoint fails at once, as it may): what each decision does, once, and what a round does while
/// an earlier decision is still carried out.
/// </summary>
public sealed class FailoverCoordinatorTests : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-coordinator-").FullName;
    private readonly FakeTimeProvider _clock = new(Now);
    private readonly FakeLogger<FailoverCoordinator> _log = new();
    private readonly FailoverWatchMetrics _metrics = new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
    private readonly FailoverStateStore _store;
    private readonly FailoverCoordinator _coordinator;

    public FailoverCoordinatorTests()
    {
        var closedPort = ClosedPort();
        string Record(string marker) => $"echo \"$FW_EVENT $FW_NODE old=$FW_OLD_PRIMARY new=$FW_NEW_PRIMARY\" >> {File(marker)}";
        var options = new FailoverWatchOptions
        {
            Cluster = new ClusterOptions
            {
                Name = "test",
                Nodes =
                [
                    new NodeOptions { Name = "pg1", Host = "127.0.0.1", Port = closedPort, FenceCommand = $"test -f {File("fence-works")} && {Record("fenced")}", RejoinCommand = "false" },
                    new NodeOptions { Name = "pg2", Host = "127.0.0.1", Port = closedPort, FenceCommand = Record("fenced") },
                    new NodeOptions { Name = "pg3", Host = "127.0.0.1", Port = closedPort, FenceCommand = $"while [ ! -f {File("release")} ]; do sleep 0.05; done; {Record("fenced")}" },
                ],
            },
            Monitor = new MonitorOptions { StateFile = File("state.json"), PromotionTimeout = TimeSpan.FromSeconds(60) },
            Hooks = new HooksOptions { OnFailover = Record("hook"), OnSplitBrain = Record("split-brain-hook"), Timeout = TimeSpan.FromSeconds(30) },
        };
        _store = new FailoverStateStore(options.Monitor.StateFile);
        _coordinator = new FailoverCoordinator(
            options, _store, new NodePromoter(options), new IncidentRecorder(options, _store, _metrics, _clock, new FakeLogger<IncidentRecorder>()), new ClusterCommandRunner(options, _metrics, new FakeLogger<ClusterCommandRunner>()), _metrics, _clock, _log, rejoins: new RejoinService(options, _store, new ClusterCommandRunner(options, _metrics, new FakeLogger<ClusterCommandRunner>()), new LatestClusterView(), _metrics, _clock, new FakeLogger<RejoinService>()));
        _coordinator.Initialise();
        System.IO.File.WriteAllText(File("fence-works"), "");
    }

    public async ValueTask DisposeAsync()
    {
        System.IO.File.WriteAllText(File("release"), "");
        await _coordinator.Acting;
        await _coordinator.SplitBrainHandling;
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task the_same_decision_is_logged_once_but_a_held_failover_is_counted_every_round()
    {
        await Record("pg1");
        for (var round = 0; round < 4; round++)
        {
            await RoundAsync(Down("pg1", ProbeFailureKind.Unreachable), Standby("pg2", streaming: true), Standby("pg3"));
        }

        // Three failures reach the threshold: rounds 3 and 4 hold (pg2 streams), logged once, counted twice.
        Assert.Equal(2, _metrics.FailoversHeld.Get("test", "standby_streaming"));
        Assert.Single(_log.Collector.GetSnapshot(), r => r.Message.StartsWith("Failover held back", StringComparison.Ordinal));
        Assert.Equal(2, _log.Collector.GetSnapshot().Count(r => r.Message.Contains("failed 1 of 3", StringComparison.Ordinal) || r.Message.Contains("failed 2 of 3", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task a_failover_found_under_way_with_its_target_writable_is_finished_once()
    {
        var failover = new FailoverInProgress("pg1", "pg2", Now.AddSeconds(-5), Now.AddSeconds(-4));
        await _store.UpdateAsync(s => s with { Primary = "pg1", InProgress = failover }, CancellationToken.None);

        await RoundAsync(Down("pg1"), Primary("pg2", timeline: 2), Standby("pg3"));
        await RoundAsync(Down("pg1"), Primary("pg2", timeline: 2), Standby("pg3"));

        var state = FailoverStateStore.Load(File("state.json"));
        Assert.Equal("pg2", state.Primary);
        Assert.Null(state.InProgress);
        Assert.Equal(FailoverResults.Promoted, Assert.Single(state.History).Result);
        Assert.Equal(1, _metrics.Failovers.Get("test", FailoverResults.Promoted));
        Assert.Equal("failover pg1 old=pg1 new=pg2\n", Marker("fenced"));
        Assert.Equal("failover pg2 old=pg1 new=pg2\n", Marker("hook"));

        // The fenced old primary's rejoin is saved no later than the failover's end: a monitor killed right after brings it back.
        Assert.Equal("pg1", Assert.Single(state.Rejoins).Node);
    }

    [Fact]
    public async Task a_node_writable_while_the_recorded_primary_is_dead_is_adopted_fenced_hooked_and_recorded()
    {
        await Record("pg1");
        for (var round = 0; round < 3; round++)
        {
            await RoundAsync(Down("pg1"), Primary("pg2", timeline: 2), Standby("pg3"));
        }

        var state = FailoverStateStore.Load(File("state.json"));
        Assert.Equal("pg2", state.Primary);
        var record = Assert.Single(state.History);
        Assert.Equal((FailoverResults.Adopted, "pg1", "pg2"), (record.Result, record.From, record.To));
        Assert.Equal("adopted pg1 old=pg1 new=pg2\n", Marker("fenced"));
        Assert.Equal("adopted pg2 old=pg1 new=pg2\n", Marker("hook"));
        Assert.Equal(_clock.GetUtcNow().ToUnixTimeSeconds(), _metrics.LastFailoverTimestamp.Get("test"));
        Assert.Equal(0, _metrics.Failovers.Get("test", FailoverResults.Promoted));
    }

    [Fact]
    public async Task a_promotion_sent_before_a_restart_is_watched_until_promotion_timeout_then_counted_failed()
    {
        var failover = new FailoverInProgress("pg1", "pg2", Now, Now);
        await _store.UpdateAsync(s => s with { Primary = "pg1", InProgress = failover }, CancellationToken.None);

        _clock.Advance(TimeSpan.FromSeconds(30));
        await RoundAsync(Down("pg1"), Standby("pg2", received: 5000, replayed: 1000));
        Assert.NotNull(FailoverStateStore.Load(File("state.json")).InProgress);
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Message.Contains("4000 bytes of received WAL left to replay", StringComparison.Ordinal));

        _clock.Advance(TimeSpan.FromSeconds(30));
        await RoundAsync(Down("pg1"), Standby("pg2", received: 5000, replayed: 2000));
        var state = FailoverStateStore.Load(File("state.json"));
        Assert.Null(state.InProgress);
        Assert.Equal(FailoverResults.Failed, Assert.Single(state.History).Result);
        Assert.Equal(1, _metrics.Failovers.Get("test", FailoverResults.Failed));
    }

    [Fact]
    public async Task a_failed_split_brain_fence_is_retried_each_round_until_it_works_and_announced_once()
    {
        await Record("pg2");
        System.IO.File.Delete(File("fence-works"));
        await RoundAsync(Primary("pg1"), Primary("pg2", timeline: 2));
        await RoundAsync(Primary("pg1"), Primary("pg2", timeline: 2));
        Assert.Null(Marker("fenced"));
        Assert.Equal(2, _metrics.CommandFailures.Get("test", ClusterCommandRunner.Fence));

        System.IO.File.WriteAllText(File("fence-works"), "");
        await RoundAsync(Primary("pg1"), Primary("pg2", timeline: 2));
        await RoundAsync(Primary("pg1"), Primary("pg2", timeline: 2));

        Assert.Equal("split_brain pg1 old=pg1 new=pg2\n", Marker("fenced"));
        Assert.Equal(1, _metrics.SplitBrains.Get("test"));
        Assert.Equal("split_brain pg2 old=pg1 new=pg2\n", Marker("split-brain-hook"));
        Assert.Equal(2, _metrics.CommandFailures.Get("test", ClusterCommandRunner.Fence));
        Assert.Equal(0, _metrics.CommandFailures.Get("test", ClusterCommandRunner.OnFailover));
    }

    [Fact]
    public async Task while_a_decision_is_carried_out_rounds_only_observe_and_a_switchover_waits_for_it()
    {
        // pg2 is adopted while pg3 (the recorded primary) is dead; pg3's fence hangs until released.
        var acting = await StartHangingAdoptionAsync();

        await _coordinator.OnRoundAsync(View(Down("pg3"), Primary("pg2", timeline: 2)), CancellationToken.None);
        Assert.Same(acting, _coordinator.Acting);

        // The switchover's work reads the fence's marker when it runs: it can only see it if it waited for the fence.
        var switchover = _coordinator.WithDecisionsHeldAsync(() => Task.FromResult(Marker("fenced")), CancellationToken.None);
        System.IO.File.WriteAllText(File("release"), "");
        Assert.Equal("adopted pg3 old=pg3 new=pg2\n", await switchover);
    }

    [Fact]
    public async Task a_decision_found_while_the_lock_is_busy_is_taken_on_the_latest_view_as_soon_as_it_frees()
    {
        await Record("pg1");
        await RoundAsync(Down("pg1", ProbeFailureKind.Unreachable), Standby("pg2", streaming: true));
        await RoundAsync(Down("pg1", ProbeFailureKind.Unreachable), Standby("pg2", streaming: true));

        // The third failure arrives while a switchover holds the lock, twice: decided once, on the latest.
        var release = new TaskCompletionSource();
        var held = _coordinator.WithDecisionsHeldAsync(async () => { await release.Task.WaitAsync(TimeSpan.FromSeconds(30)); return true; }, CancellationToken.None);
        await RoundAsync(Down("pg1", ProbeFailureKind.Unreachable), Standby("pg2", streaming: true));
        await RoundAsync(Down("pg1", ProbeFailureKind.Unreachable), Standby("pg2", streaming: true));
        Assert.Equal((2, 0.0), (_coordinator.PrimaryFailures, _metrics.FailoversHeld.Get("test", "standby_streaming")));

        release.SetResult();
        await held;
        await _coordinator.Acting;
        Assert.Equal((3, 1.0), (_coordinator.PrimaryFailures, _metrics.FailoversHeld.Get("test", "standby_streaming")));
    }

    [Fact]
    public async Task an_intruder_is_fenced_in_its_first_round_while_a_decision_still_holds_the_lock()
    {
        var acting = await StartHangingAdoptionAsync();

        // pg1 comes back writable on an old timeline while pg3's fence (the decision) still runs.
        await _coordinator.OnRoundAsync(View(Primary("pg1", timeline: 1), Primary("pg2", timeline: 2), Down("pg3")), CancellationToken.None);
        await _coordinator.SplitBrainHandling;
        Assert.False(acting.IsCompleted, "the decision ended before the test released it");
        Assert.Equal("split_brain pg1 old=pg1 new=pg2\n", Marker("fenced"));
        Assert.Equal("split_brain pg2 old=pg1 new=pg2\n", Marker("split-brain-hook"));
        Assert.Equal(1, _metrics.SplitBrains.Get("test"));
    }

    [Fact]
    public async Task paused_an_intruder_is_announced_but_not_fenced_and_a_dead_primary_not_replaced_by_adoption()
    {
        await Record("pg1");
        await _coordinator.SetPausedAsync(true, "test", CancellationToken.None);
        Assert.True(_coordinator.IsPaused);
        await RoundAsync(Primary("pg1"), Primary("pg2", timeline: 2));
        Assert.Null(Marker("fenced"));
        Assert.Equal(1, _metrics.SplitBrains.Get("test"));
        Assert.Equal("split_brain pg1 old=pg2 new=pg1\n", Marker("split-brain-hook"));

        for (var round = 0; round < 3; round++)
        {
            await RoundAsync(Down("pg1"), Primary("pg2", timeline: 2));
        }

        Assert.Equal("pg1", _store.Current.Primary);
        Assert.Null(Marker("fenced"));
        Assert.Null(Marker("hook"));
        Assert.True(_metrics.FailoversHeld.Get("test", "paused") > 0);

        // Resumed, the same rounds act.
        await _coordinator.SetPausedAsync(false, "test", CancellationToken.None);
        await RoundAsync(Down("pg1"), Primary("pg2", timeline: 2));
        Assert.Equal("pg2", _store.Current.Primary);
        Assert.Equal("adopted pg1 old=pg1 new=pg2\n", Marker("fenced"));
    }

    [Fact]
    public async Task a_promotion_given_up_holds_every_other_promotion_until_its_target_is_fenced()
    {
        // pg_promote reached pg1 (its fence fails for now) before a restart; pg1 never finished recovery.
        var failover = new FailoverInProgress("pg2", "pg1", Now, Now);
        await _store.UpdateAsync(s => s with { Primary = "pg2", PrimaryLsn = "0/3E8", InProgress = failover }, CancellationToken.None);
        System.IO.File.Delete(File("fence-works"));
        _clock.Advance(TimeSpan.FromSeconds(61));
        for (var round = 0; round < 15; round++)
        {
            await RoundAsync(Down("pg2"), Standby("pg1"), Standby("pg3"));
        }

        Assert.Equal("pg1", _store.Current.PromotionPending);
        Assert.True(_metrics.FailoversHeld.Get("test", "promotion_pending") >= 10);
        Assert.DoesNotContain(_log.Collector.GetSnapshot(), r => r.Message.StartsWith("Failing over", StringComparison.Ordinal));

        // Its fence works (pg1 stops): the next round may promote pg3.
        System.IO.File.WriteAllText(File("fence-works"), "");
        await RoundAsync(Down("pg2"), Standby("pg1"), Standby("pg3"));
        Assert.Null(_store.Current.PromotionPending);
        Assert.Equal("failover pg1 old=pg2 new=pg1\n", Marker("fenced"));
        await RoundAsync(Down("pg2"), Down("pg1"), Standby("pg3"));
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Message.StartsWith("Failing over", StringComparison.Ordinal) && r.Message.Contains("promoting pg3", StringComparison.Ordinal));
    }

    /// <summary>pg3 recorded and dead, pg2 writable: the adoption's fence of pg3 hangs until the test writes "release".</summary>
    private async Task<Task> StartHangingAdoptionAsync()
    {
        await Record("pg3");
        for (var round = 0; round < 2; round++)
        {
            await RoundAsync(Down("pg3"), Standby("pg2"));
        }

        _clock.Advance(TimeSpan.FromSeconds(1));
        await _coordinator.OnRoundAsync(View(Down("pg3"), Primary("pg2", timeline: 2)), CancellationToken.None);
        Assert.False(_coordinator.Acting.IsCompleted, "the adoption did not wait for pg3's fence");
        return _coordinator.Acting;
    }

    [Fact]
    public async Task a_first_start_records_the_primary_it_finds_quietly_and_then_its_timeline()
    {
        await RoundAsync(Primary("pg1", timeline: 4), Standby("pg2"));
        await RoundAsync(Primary("pg1", timeline: 4), Standby("pg2"));

        var state = FailoverStateStore.Load(File("state.json"));
        Assert.Equal("pg1", state.Primary);
        Assert.Empty(state.Incidents);
        Assert.Equal([new PrimaryTimeline("pg1", 4)], state.Timelines);
    }

    [Fact]
    public async Task the_primary_position_is_saved_when_unknown_then_only_once_it_moved_half_the_lag_allowed_however_long_it_creeps()
    {
        await _store.UpdateAsync(s => s with { Primary = "pg1" }, CancellationToken.None);
        await RoundAsync(Primary("pg1", lsn: 1000), Standby("pg2"));
        Assert.Equal(new Lsn(1000), _coordinator.SavedPrimaryLsn);

        // Two minutes of rounds, 10 KB of WAL each: 1.2 MB, under half of the default 16 MB. Nothing written.
        for (var round = 1; round <= 120; round++)
        {
            await RoundAsync(Primary("pg1", lsn: 1000 + ((ulong)round * 10_000)), Standby("pg2"));
        }

        Assert.Equal(new Lsn(1000), _coordinator.SavedPrimaryLsn);
        Assert.Equal(new Lsn(1000), Lsn.ParseOrNull(FailoverStateStore.Load(File("state.json")).PrimaryLsn));

        await RoundAsync(Primary("pg1", lsn: 1000 + (8UL << 20)), Standby("pg2"));
        Assert.Equal(new Lsn(1000 + (8UL << 20)), _coordinator.SavedPrimaryLsn);
    }

    private async Task Record(string primary) =>
        await _store.UpdateAsync(s => s with { Primary = primary, PrimaryLsn = "0/3E8" }, CancellationToken.None);

    /// <summary>One round a second later than the last, each report newly probed, and waits until it is carried out.</summary>
    private async Task RoundAsync(params NodeReport[] reports)
    {
        _clock.Advance(TimeSpan.FromSeconds(1));
        await _coordinator.OnRoundAsync(View(reports), CancellationToken.None);
        await _coordinator.Acting;
        await _coordinator.SplitBrainHandling;
    }

    private ClusterView View(params NodeReport[] reports) =>
        ClusterView.Build([.. reports.Select(r => r with { ProbedAt = _clock.GetUtcNow() })], _store.Current.Primary, Lsn.ParseOrNull(_store.Current.PrimaryLsn), _clock.GetUtcNow());

    private string File(string name) => Path.Combine(_directory, name);

    private string? Marker(string name) => System.IO.File.Exists(File(name)) ? System.IO.File.ReadAllText(File(name)) : null;

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
