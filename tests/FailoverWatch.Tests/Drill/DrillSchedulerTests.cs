using FailoverWatch.Configuration;
using FailoverWatch.Drill;
using FailoverWatch.Incidents;
using FailoverWatch.State;
using FailoverWatch.Telemetry;
using FailoverWatch.Tests.Coordination;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace FailoverWatch.Tests.Drill;

/// <summary>
/// <c>monitor.drill_schedule</c> on a fake clock: at 04:00 the leader's host runs the drill, which declines (no incident,
/// no switchover) while the cluster is not ready, waits out lag, and starts once it is 0; a follower lets it pass.
/// </summary>
public sealed class DrillSchedulerTests : IDisposable
{
    private static readonly DateTimeOffset Before = new(2026, 1, 5, 3, 59, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Tomorrow = new(2026, 1, 6, 4, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-drill-").FullName;
    private readonly FakeTimeProvider _clock = new(Before);
    private readonly FakeLogger<DrillService> _log = new();
    private readonly FailoverStateStore _store;
    private readonly FailoverWatchOptions _options;
    private readonly Cluster _cluster = new();

    public DrillSchedulerTests()
    {
        _options = new FailoverWatchOptions
        {
            Cluster = new ClusterOptions
            {
                Name = "test",
                // Nothing listens there: a drill that starts fails at its canary, as a drill whose primary is gone would.
                Nodes = [new NodeOptions { Name = "pg1", Host = "127.0.0.1", Port = 1 }, new NodeOptions { Name = "pg2", Host = "127.0.0.1", Port = 2 }],
            },
            Monitor = new MonitorOptions { StateFile = Path.Combine(_directory, "state.json"), DrillSchedule = "0 4 * * *" },
        };
        _store = new FailoverStateStore(_options.Monitor.StateFile);
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task a_follower_lets_the_schedule_pass_without_looking_at_the_cluster()
    {
        await RunScheduleAsync(leads: false);
        Assert.Equal(0, _cluster.StatusReads);
        Assert.Empty(_store.Current.Incidents);
    }

    [Theory]
    [InlineData("paused", "the host is paused")]
    [InlineData("standby down", "pg2 is not a standby streaming with lag 0")]
    [InlineData("failing check", "the doctor's checks fail: pg2: wal_log_hints is off")]
    public async Task the_leader_declines_a_cluster_that_is_not_ready_at_once_with_no_incident(string situation, string reason)
    {
        _cluster.Now = situation switch
        {
            "paused" => DrillReadinessTests.Status("pg1", new("pg2", true, 0, 0), Ready) with { Paused = true },
            "standby down" => DrillReadinessTests.Status("pg1", new("pg2", false, null, null), Ready),
            _ => DrillReadinessTests.Status("pg1", new("pg2", true, 0, 0), Ready, ["pg2: wal_log_hints is off"]),
        };

        await RunScheduleAsync(leads: true);

        Assert.Equal(1, _cluster.StatusReads);
        Assert.Equal(0, _cluster.Switchovers);
        Assert.Empty(_store.Current.Incidents);
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Message.Contains($"Drill not started ({DrillScheduler.Trigger}): {reason}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task the_drill_runs_the_doctors_checks_afresh_and_is_not_refused_on_a_verdict_from_before_a_switchover()
    {
        // The host's last verdict still describes pg2 as it was while it was rejoined; checked now, it is ready.
        _cluster.Now = DrillReadinessTests.Status("pg1", new("pg2", true, 0, 0), Ready, ["pg2: unreachable"]);
        _cluster.Fresh = DrillReadinessTests.Status("pg1", new("pg2", true, 0, 0), Ready);

        await RunScheduleAsync(leads: true);

        Assert.Equal(1, _cluster.FreshChecks);
        var incident = Assert.Single(_store.Current.Incidents);
        Assert.True(incident.Phases[0] is { Name: "ready", Ok: true }, string.Join("; ", incident.Phases));
        Assert.DoesNotContain(_log.Collector.GetSnapshot(), r => r.Message.Contains("Drill not started", StringComparison.Ordinal));
    }

    [Fact]
    public async Task lag_that_never_reaches_0_declines_the_drill_after_30_seconds()
    {
        _cluster.Now = DrillReadinessTests.Status("pg1", new("pg2", true, 8192, 0), Ready);

        await RunScheduleAsync(leads: true);

        Assert.True(_cluster.StatusReads >= 9, $"{_cluster.StatusReads} reads: the drill waited for lag 0 (backing off to a check every 5 s)");
        Assert.Equal(0, _cluster.Switchovers);
        Assert.Empty(_store.Current.Incidents);
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Message.Contains("pg2 is not a standby streaming with lag 0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task the_drill_starts_once_lag_is_0_and_records_an_incident_with_its_phases_even_when_a_step_fails()
    {
        var caughtUp = Before.AddMinutes(1).AddSeconds(10);
        _cluster.Next = () => DrillReadinessTests.Status("pg1", _clock.GetUtcNow() < caughtUp ? new("pg2", true, 8192, 0) : new("pg2", true, 0, 0), Ready);

        await RunScheduleAsync(leads: true);

        var incident = Assert.Single(_store.Current.Incidents);
        Assert.Equal((IncidentKinds.Drill, "failed", "pg1", "pg2"), (incident.Kind, incident.Result, incident.From, incident.To));
        Assert.StartsWith(DrillScheduler.Trigger + ": switchover from pg1 to pg2 and back", incident.Reason, StringComparison.Ordinal);
        Assert.Equal(["ready", "canary_start", "put_back_pg1", "canary_check"], incident.Phases.Select(p => p.Name));
        var ready = incident.Phases[0];
        Assert.True(ready.Ok);
        Assert.True(ready.At.AddSeconds(ready.Seconds!.Value) >= caughtUp, $"ready took {ready.Seconds} s from {ready.At:HH:mm:ss.fff} on the fake clock: it waited for lag 0");
        Assert.False(incident.Phases[1].Ok);
        Assert.Equal(0, _cluster.Switchovers);
        Assert.False(incident.Drill!.Passed);
        Assert.Null(incident.Drill.CanaryLost);
    }

    private static IReadOnlyDictionary<string, bool> Ready => new Dictionary<string, bool> { ["pg2"] = true };

    /// <summary>Starts the schedule, moves the fake clock past 04:00 and on in steps (the drill's polls), until tomorrow's run is next.</summary>
    private async Task RunScheduleAsync(bool leads)
    {
        var drills = new DrillService(_options, _cluster, new IncidentRecorder(_options, _store, Metrics(), _clock, new FakeLogger<IncidentRecorder>()), _clock, _log);
        using var scheduler = new DrillScheduler(_options.Monitor.DrillSchedule!, drills, _clock, new FakeLogger<DrillScheduler>(), new FixedLeadership(leads));
        await scheduler.StartAsync(CancellationToken.None);
        await LeaderOnlyScheduleTests.UntilAsync(() => scheduler.NextScheduled is not null);
        _clock.Advance(TimeSpan.FromMinutes(1));
        await LeaderOnlyScheduleTests.UntilAsync(() =>
        {
            if (scheduler.NextScheduled == Tomorrow)
            {
                return true;
            }

            _clock.Advance(TimeSpan.FromMilliseconds(500));
            return false;
        });
        await scheduler.StopAsync(CancellationToken.None);
    }

    private static FailoverWatchMetrics Metrics() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());

    /// <summary>The host as the drill sees it, set by the test; switchovers are only counted.</summary>
    private sealed class Cluster : IClusterControl
    {
        private int _reads;

        public ClusterSnapshot? Now { get; set; }

        public Func<ClusterSnapshot>? Next { get; set; }

        public int StatusReads => Volatile.Read(ref _reads);

        public int Switchovers { get; private set; }

        public ClusterSnapshot Status()
        {
            Interlocked.Increment(ref _reads);
            return Next?.Invoke() ?? Now!;
        }

        /// <summary>What the doctor's checks find when run afresh; null: what <see cref="Status"/> says.</summary>
        public ClusterSnapshot? Fresh { get; set; }

        public int FreshChecks { get; private set; }

        public Task<ClusterSnapshot> CheckAsync(CancellationToken cancellationToken)
        {
            FreshChecks++;
            var status = Status();
            return Task.FromResult(Fresh ?? status);
        }

        public Task<string?> SwitchoverAsync(string to, IncidentHandle incident, CancellationToken cancellationToken)
        {
            Switchovers++;
            return Task.FromResult<string?>("not in this test");
        }
    }
}
