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

namespace FailoverWatch.Tests.Rejoin;

/// <summary>
/// The host's rejoins on a fake clock, each rejoin_command a real shell command that fails until its "host" file
/// exists and then prints what <c>failoverwatch rejoin</c> prints: when a rejoin runs, when it does not, and its retry.
/// </summary>
public sealed class RejoinServiceTests : IAsyncDisposable
{
    private const string Outcome = """{"node":"NODE","rewound":true,"took_seconds":2.5,"salvage":{"commits":7,"bytes":800,"fork_lsn":"0/3000158","end_lsn":"0/3000478","relations":["postgres.public.t"],"dir":"/s"}}""";
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-rejoin-").FullName;
    private readonly FakeTimeProvider _clock = new(Now);
    private readonly FailoverWatchMetrics _metrics = new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
    private readonly FailoverStateStore _store;
    private readonly LatestClusterView _latest = new();
    private readonly RejoinService _service;
    private readonly FailoverWatchOptions _options;

    public RejoinServiceTests()
    {
        string Command(string node) =>
            $"test -f {File("host-" + node)} && echo \"$FW_EVENT $FW_NODE $FW_NEW_PRIMARY $FW_NEW_PRIMARY_HOST:$FW_NEW_PRIMARY_PORT\" >> {File("ran")} && echo '{Outcome.Replace("NODE", node, StringComparison.Ordinal)}'";
        var options = _options = new FailoverWatchOptions
        {
            Cluster = new ClusterOptions
            {
                Name = "test",
                Nodes =
                [
                    new NodeOptions { Name = "pg1", Host = "10.0.0.1", RejoinCommand = Command("pg1") },
                    new NodeOptions { Name = "pg2", Host = "10.0.0.2", Port = 5433 },
                    new NodeOptions { Name = "pg3", Host = "10.0.0.3", RejoinCommand = Command("pg3") },
                ],
            },
            Monitor = new MonitorOptions { StateFile = File("state.json"), RejoinRetry = TimeSpan.FromMinutes(1), RejoinTimeout = TimeSpan.FromSeconds(30) },
        };
        _store = new FailoverStateStore(options.Monitor.StateFile);
        _service = new RejoinService(options, _store, new ClusterCommandRunner(options, _metrics, new FakeLogger<ClusterCommandRunner>()), _latest, _metrics, _clock, new FakeLogger<RejoinService>());
    }

    public async ValueTask DisposeAsync()
    {
        await _service.StopAsync(CancellationToken.None);
        _service.Dispose();
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task a_paused_cluster_rejoins_nothing_and_a_failed_rejoin_is_retried_after_rejoin_retry_until_it_works()
    {
        await _store.UpdateAsync(s => s with { Primary = "pg2", Paused = true }, CancellationToken.None);
        await _service.StartAsync(CancellationToken.None);
        await _service.RequestAsync("pg1", IncidentHandle.None, CancellationToken.None);
        await TicksAsync(5);
        Assert.Equal(0, Rejoins("pg1", "failed") + Rejoins("pg1", "streaming"));

        await _store.UpdateAsync(s => s with { Paused = false }, CancellationToken.None);
        await UntilAsync(() => Rejoins("pg1", "failed") == 1, "first try failed: the host is down");
        Assert.Equal(1, _metrics.CommandFailures.Get("test", "rejoin"));

        // Not again before rejoin_retry, however many ticks pass.
        await TicksAsync(50);
        Assert.Equal(1, Rejoins("pg1", "failed"));

        System.IO.File.WriteAllText(File("host-pg1"), "");
        _clock.Advance(TimeSpan.FromSeconds(15));
        await UntilAsync(() => Rejoins("pg1", "streaming") == 1, "retried once the host is back");
        Assert.Equal(1, Rejoins("pg1", "failed"));
        Assert.Equal(7, _metrics.SalvagedCommits.Get("test", "pg1"));
        Assert.Equal("rejoin pg1 pg2 10.0.0.2:5433\n", System.IO.File.ReadAllText(File("ran")));
    }

    [Fact]
    public async Task a_standby_that_has_not_streamed_for_a_minute_while_the_primary_is_up_is_rejoined_and_a_streaming_one_never()
    {
        System.IO.File.WriteAllText(File("host-pg1"), "");
        System.IO.File.WriteAllText(File("host-pg3"), "");
        await _store.UpdateAsync(s => s with { Primary = "pg2" }, CancellationToken.None);
        await _service.StartAsync(CancellationToken.None);
        for (var second = 0; second <= 70; second++)
        {
            _latest.Publish(ClusterView.Build([Standby("pg1", streaming: true), Primary("pg2"), Standby("pg3")], "pg2", null, _clock.GetUtcNow()));
            await TicksAsync(1);
            if (second < 59)
            {
                Assert.False(System.IO.File.Exists(File("ran")), $"rejoined after {second} s");
            }
        }

        await UntilAsync(() => Rejoins("pg3", "streaming") == 1, "pg3 rejoined");
        Assert.Equal(0, Rejoins("pg1", "streaming"));
    }

    [Fact]
    public async Task a_pending_rejoin_is_kept_in_the_state_and_a_restarted_monitor_carries_it_on()
    {
        await _store.UpdateAsync(s => s with { Primary = "pg2" }, CancellationToken.None);
        await _service.StartAsync(CancellationToken.None);
        await _service.RequestAsync("pg1", IncidentHandle.None, CancellationToken.None);
        await UntilAsync(() => Rejoins("pg1", "failed") == 1, "first try failed: the host is down");
        await UntilAsync(() => _store.Current.Rejoins.Any(r => r.Node == "pg1" && r.Due > _clock.GetUtcNow()), "the retry is in the state");
        await _service.StopAsync(CancellationToken.None);

        // A new monitor on the same state: nothing asked of it, and it rejoins pg1 once due.
        System.IO.File.WriteAllText(File("host-pg1"), "");
        using var restartedStore = new FailoverStateStore(_store.Path);
        using var restarted = new RejoinService(_options, restartedStore, new ClusterCommandRunner(_options, _metrics, new FakeLogger<ClusterCommandRunner>()), _latest, _metrics, _clock, new FakeLogger<RejoinService>());
        await restarted.StartAsync(CancellationToken.None);
        await TicksAsync(5);
        Assert.Equal(0, Rejoins("pg1", "streaming"));
        _clock.Advance(TimeSpan.FromMinutes(1));
        await UntilAsync(() => Rejoins("pg1", "streaming") == 1, "the restarted monitor rejoined pg1");
        await UntilAsync(() => restartedStore.Current.Rejoins.Count == 0, "done, out of the state");
        await restarted.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task a_request_is_in_the_state_file_when_it_returns_and_the_node_counts_as_rejoining_until_its_rejoin_has_finished()
    {
        await _store.UpdateAsync(s => s with { Primary = "pg2" }, CancellationToken.None);

        // The service's loop is not running: no tick writes it, the request itself did.
        await _service.RequestAsync("pg1", IncidentHandle.None, CancellationToken.None);
        await _service.RequestAsync("pg2", IncidentHandle.None, CancellationToken.None);
        Assert.Equal("pg1", Assert.Single(FailoverStateStore.Load(File("state.json")).Rejoins).Node);
        Assert.True(_service.IsRejoining("pg1"));
        Assert.False(_service.IsRejoining("pg2"), "no rejoin_command, nothing asked");
        Assert.False(_service.IsRejoining("pg3"));

        System.IO.File.WriteAllText(File("host-pg1"), "");
        await _service.StartAsync(CancellationToken.None);
        await UntilAsync(() => Rejoins("pg1", "streaming") == 1, "pg1 rejoined");
        await UntilAsync(() => !_service.IsRejoining("pg1"), "pg1's rejoin over");
        Assert.Empty(FailoverStateStore.Load(File("state.json")).Rejoins);
    }

    [Fact]
    public async Task in_sync_mode_a_recorded_synchronous_standby_is_rejoined_only_once_it_is_unrecorded()
    {
        System.IO.File.WriteAllText(File("host-pg3"), "");
        _options.Replication = new ReplicationOptions { Mode = ReplicationModes.Sync };
        var replication = new FailoverWatch.Replication.SyncStandbyManager(_options, _store, _metrics, _clock, new FakeLogger<FailoverWatch.Replication.SyncStandbyManager>());
        using var service = new RejoinService(_options, _store, new ClusterCommandRunner(_options, _metrics, new FakeLogger<ClusterCommandRunner>()), _latest, _metrics, _clock, new FakeLogger<RejoinService>(), replication: replication);
        await _store.UpdateAsync(s => s with { Primary = "pg2", Replication = new() { Standbys = ["pg3"] } }, CancellationToken.None);
        await service.StartAsync(CancellationToken.None);
        await service.RequestAsync("pg3", IncidentHandle.None, CancellationToken.None);
        await TicksAsync(10);
        Assert.True(replication.Holds("pg3"));
        Assert.False(System.IO.File.Exists(File("ran")), "restarted while commits could wait on it");

        await _store.UpdateAsync(s => s with { Replication = new() }, CancellationToken.None);
        await UntilAsync(() => Rejoins("pg3", "streaming") == 1, "rejoined once un-recorded");
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task a_pending_rejoin_of_a_node_that_has_become_the_primary_is_dropped_and_never_counts_as_rejoining()
    {
        // pg3 was asked for, then promoted by a failover; pg1's request stands.
        await _store.UpdateAsync(s => s with { Primary = "pg3", Rejoins = [new("pg3", Now, null), new("pg1", Now.AddHours(1), null)] }, CancellationToken.None);
        Assert.False(_service.IsRejoining("pg3"));
        Assert.True(_service.IsRejoining("pg1"));

        await _service.StartAsync(CancellationToken.None);
        await UntilAsync(() => _store.Current.Rejoins.All(r => r.Node != "pg3"), "pg3's entry dropped");
        Assert.Equal("pg1", Assert.Single(FailoverStateStore.Load(File("state.json")).Rejoins).Node);
        Assert.False(_service.IsRejoining("pg3"));
        Assert.Equal(0, Rejoins("pg3", "failed") + Rejoins("pg3", "streaming"));
    }

    private double Rejoins(string node, string result) => _metrics.Rejoins.Get("test", node, result);

    /// <summary>Moves the fake clock a second at a time, giving the service's loop real time to run each tick.</summary>
    private async Task TicksAsync(int seconds)
    {
        for (var i = 0; i < seconds; i++)
        {
            await Task.Delay(20);
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        await Task.Delay(50);
    }

    private async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, what);
            await TicksAsync(1);
        }
    }

    private string File(string name) => Path.Combine(_directory, name);
}
