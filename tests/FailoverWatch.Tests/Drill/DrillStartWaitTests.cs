using System.Diagnostics;
using FailoverWatch.Configuration;
using FailoverWatch.Drill;
using FailoverWatch.Incidents;
using FailoverWatch.State;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace FailoverWatch.Tests.Drill;

/// <summary>
/// The drill's wait for a lag that passes by itself, on a fake clock: bounded by the monotonic clock whatever the
/// wall clock does, and running the doctor's checks (a connection to every node) less often the longer it waits.
/// </summary>
public sealed class DrillStartWaitTests : IDisposable
{
    private static readonly ClusterSnapshot Lagging = DrillReadinessTests.Status("pg1", new("pg2", true, 8192, 0), new Dictionary<string, bool> { ["pg2"] = true });
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-drill-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
    private readonly SkewedClock _wall;
    private readonly FailoverStateStore _store;
    private readonly FailoverWatchOptions _options;

    public DrillStartWaitTests()
    {
        _wall = new SkewedClock(_clock);
        _options = new FailoverWatchOptions
        {
            Cluster = new ClusterOptions { Name = "test", Nodes = [new NodeOptions { Name = "pg1", Host = "127.0.0.1", Port = 1 }, new NodeOptions { Name = "pg2", Host = "127.0.0.1", Port = 1 }] },
            Monitor = new MonitorOptions { StateFile = Path.Combine(_directory, "state.json") },
        };
        _store = new FailoverStateStore(_options.Monitor.StateFile);
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public async Task a_wall_clock_stepped_while_the_drill_waits_for_lag_neither_cuts_nor_stretches_its_30_s(int hours)
    {
        var control = new LaggingCluster(() => _wall.Offset = TimeSpan.FromHours(hours));

        var report = await RunAsync(control);

        Assert.False(report.Passed);
        Assert.Equal("pg2 is not a standby streaming with lag 0", report.Phases[0].Error);
        // 30 s, and the last check's pause (5 s at most).
        Assert.InRange(report.Phases[0].Seconds, 30, 35);
    }

    [Fact]
    public async Task a_drill_waiting_for_lag_runs_the_doctors_checks_at_once_then_backing_off_to_every_5_s()
    {
        var control = new LaggingCluster(() => { });

        await RunAsync(control);

        // At 0, 0.5, 1.5, 3.5, 7.5, then every 5 s: 10 in 30 s, not one per 0.5 s poll (61).
        Assert.InRange(control.Checks, 9, 11);
    }

    /// <summary>Runs a drill, moving the fake clock on until it ends (or 30 s of real time pass).</summary>
    private async Task<DrillReport> RunAsync(IClusterControl control)
    {
        var metrics = new FailoverWatchMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var incidents = new IncidentRecorder(_options, _store, metrics, _wall, new FakeLogger<IncidentRecorder>());
        var run = new DrillRunner(_options, control, incidents, _wall, new FakeLogger<DrillRunner>()).RunAsync("test", CancellationToken.None);
        var real = Stopwatch.StartNew();
        while (!run.IsCompleted && real.Elapsed < TimeSpan.FromSeconds(30))
        {
            _clock.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(1);
        }

        Assert.True(run.IsCompleted, "the drill still waits after 30 s of real time");
        return await run;
    }

    /// <summary>A cluster whose standby keeps a little lag; <paramref name="firstCheck"/> runs at the first check.</summary>
    private sealed class LaggingCluster(Action firstCheck) : IClusterControl
    {
        public int Checks { get; private set; }

        public ClusterSnapshot Status() => Lagging;

        public Task<ClusterSnapshot> CheckAsync(CancellationToken cancellationToken)
        {
            if (++Checks == 1)
            {
                firstCheck();
            }

            return Task.FromResult(Lagging);
        }

        public Task<string?> SwitchoverAsync(string to, IncidentHandle incident, CancellationToken cancellationToken) => throw new InvalidOperationException("no switchover while lagging");
    }
}
