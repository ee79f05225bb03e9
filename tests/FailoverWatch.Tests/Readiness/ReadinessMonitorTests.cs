using FailoverWatch.Configuration;
using FailoverWatch.Failover;
using FailoverWatch.Incidents;
using FailoverWatch.Monitoring;
using FailoverWatch.Readiness;
using FailoverWatch.State;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using static FailoverWatch.Tests.Failover.Reports;

namespace FailoverWatch.Tests.Readiness;

/// <summary>The host's readiness checks on a fake clock: on its own it re-checks only after a change or readiness_interval; asked (a drill), at once.</summary>
public sealed class ReadinessMonitorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-readiness-").FullName;
    private readonly FakeTimeProvider _clock = new(Now);
    private readonly SkewedClock _wall;
    private readonly FailoverStateStore _store;
    private readonly LatestClusterView _latest = new();
    private readonly ReadinessMonitor _monitor;

    public ReadinessMonitorTests()
    {
        _wall = new SkewedClock(_clock);
        var options = new FailoverWatchOptions
        {
            Cluster = new ClusterOptions { Name = "test", Nodes = [new NodeOptions { Name = "pg1", Host = "127.0.0.1", Port = 1 }, new NodeOptions { Name = "pg2", Host = "127.0.0.1", Port = 1 }] },
            Monitor = new MonitorOptions { StateFile = Path.Combine(_directory, "state.json"), ReadinessInterval = TimeSpan.FromMinutes(1) },
        };
        var metrics = new FailoverWatchMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        _store = new FailoverStateStore(options.Monitor.StateFile);
        var commands = new ClusterCommandRunner(options, metrics, new FakeLogger<ClusterCommandRunner>());
        var coordinator = new FailoverCoordinator(
            options, _store, new NodePromoter(options), new IncidentRecorder(options, _store, metrics, _clock, new FakeLogger<IncidentRecorder>()), commands, metrics, _clock, new FakeLogger<FailoverCoordinator>());
        _monitor = new ReadinessMonitor(options, _latest, coordinator, new FailoverReadiness(options, _wall), metrics, _wall, new FakeLogger<ReadinessMonitor>());
    }

    public void Dispose()
    {
        _monitor.Dispose();
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task a_check_asked_for_runs_at_once_where_the_hosts_own_waits_for_readiness_interval()
    {
        await _store.UpdateAsync(s => s with { Primary = "pg1" }, CancellationToken.None);
        _latest.Publish(ClusterView.Build([Primary("pg1"), Standby("pg2", streaming: true)], "pg1", null, Now));
        await _monitor.CheckIfDueAsync(CancellationToken.None);
        Assert.Equal(Now, _monitor.Current!.CheckedAt);

        _clock.Advance(TimeSpan.FromSeconds(10));
        await _monitor.CheckIfDueAsync(CancellationToken.None);
        Assert.Equal(Now, _monitor.Current!.CheckedAt);

        await _monitor.CheckNowAsync(CancellationToken.None);
        Assert.Equal(Now.AddSeconds(10), _monitor.Current!.CheckedAt);
    }

    [Fact]
    public async Task a_wall_clock_stepped_back_or_forward_neither_holds_nor_hurries_the_next_check()
    {
        await _store.UpdateAsync(s => s with { Primary = "pg1" }, CancellationToken.None);
        _latest.Publish(ClusterView.Build([Primary("pg1"), Standby("pg2", streaming: true)], "pg1", null, Now));
        await _monitor.CheckIfDueAsync(CancellationToken.None);
        var first = _monitor.Current;

        // Forward an hour, 10 s later: not yet due.
        _wall.Offset = TimeSpan.FromHours(1);
        _clock.Advance(TimeSpan.FromSeconds(10));
        await _monitor.CheckIfDueAsync(CancellationToken.None);
        Assert.Same(first, _monitor.Current);

        // Back an hour, a readiness_interval after the check: due.
        _wall.Offset = TimeSpan.FromHours(-1);
        _clock.Advance(TimeSpan.FromSeconds(50));
        await _monitor.CheckIfDueAsync(CancellationToken.None);
        Assert.NotSame(first, _monitor.Current);
    }
}
