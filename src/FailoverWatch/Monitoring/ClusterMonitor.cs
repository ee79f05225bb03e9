using FailoverWatch.Configuration;
using FailoverWatch.Failover;
using FailoverWatch.Logging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Monitoring;

/// <summary>
/// The monitor loop: every probe_interval, probe all nodes, publish the view (metrics, logs, /status),
/// then let the failover coordinator act on it. A round that throws is logged and the loop goes on.
/// </summary>
internal sealed class ClusterMonitor(
    FailoverWatchOptions options,
    ClusterProber prober,
    LatestClusterView latest,
    ClusterMetricsPublisher metrics,
    NodeChangeLogger changes,
    FailoverCoordinator coordinator,
    MonitorHeartbeat heartbeat,
    TimeProvider time,
    ILogger<ClusterMonitor> logger) : BackgroundService
{
    private readonly SemaphoreSlim _processing = new(1, 1);
    private long _lastProcessedStart;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var monitor = options.Monitor;
        logger.MonitorStarted(options.Cluster.Name, options.Cluster.Nodes.Count, Duration.Format(monitor.ProbeInterval), Duration.Format(monitor.ProbeTimeout), monitor.FailureThreshold);
        await coordinator.InitialiseAsync(stoppingToken);

        // A round starts every probe_interval even while an earlier one still waits on a hung node, so a
        // hung primary fails one probe per interval, not one per probe_timeout.
        var rounds = new List<Task>();
        using var timer = new PeriodicTimer(monitor.ProbeInterval, time);
        try
        {
            do
            {
                rounds.RemoveAll(r => r.IsCompleted);
                rounds.Add(RunRoundSafelyAsync(stoppingToken));
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }

        await Task.WhenAll(rounds);
    }

    private async Task RunRoundSafelyAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunRoundAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            logger.RoundFailed(e);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>One round: probe, then publish, decide and act, in round order; a round overtaken by a later one is dropped.</summary>
    internal async Task RunRoundAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var reports = await prober.ProbeAllAsync(cancellationToken);
        await _processing.WaitAsync(cancellationToken);
        try
        {
            if (started < _lastProcessedStart)
            {
                return;
            }

            _lastProcessedStart = started;
            var view = ClusterView.Build(reports, coordinator.RecordedPrimary, latest.LastKnownPrimaryLsn, time.GetUtcNow());
            latest.Publish(view);
            metrics.Publish(view);
            changes.Observe(view);
            heartbeat.Beat(time.GetUtcNow());
            await coordinator.OnRoundAsync(view, cancellationToken);
        }
        finally
        {
            _processing.Release();
        }
    }

    public override void Dispose()
    {
        _processing.Dispose();
        base.Dispose();
    }
}
