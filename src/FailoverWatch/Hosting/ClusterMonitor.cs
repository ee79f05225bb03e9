using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Failover;
using FailoverWatch.Logging;
using FailoverWatch.Monitoring;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Hosting;

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
    SwitchoverService switchover,
    IMonitorLeadership leadership,
    MonitorHeartbeat heartbeat,
    TimeProvider time,
    ILogger<ClusterMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var monitor = options.Monitor;
        logger.MonitorStarted(options.Cluster.Name, options.Cluster.Nodes.Count, Duration.Format(monitor.ProbeInterval), Duration.Format(monitor.ProbeTimeout), monitor.FailureThreshold);
        foreach (var warning in ConfigValidator.Warnings(options))
        {
            logger.ConfigWarning(warning.ToString());
        }

        coordinator.Initialise();
        leadership.OnSwitchoverFound(switchover.ResumeAsync);
        coordinator.UseSwitchover((target, cancellationToken) => switchover.SwitchAsync(target, cancellationToken, decisionsHeld: true));
        leadership.OnMajority(cancellationToken => latest.Current is { } view ? coordinator.OnRoundAsync(view, cancellationToken) : Task.CompletedTask);
        using var timer = new PeriodicTimer(monitor.ProbeInterval, time);
        try
        {
            do
            {
                try
                {
                    await RunRoundAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    logger.RoundFailed(e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// One round: probe, publish, decide and act. It waits for probes only part of an interval, so a hung
    /// node (whose probe runs up to probe_timeout) never delays the next round or the others' reports.
    /// </summary>
    internal async Task RunRoundAsync(CancellationToken cancellationToken)
    {
        var reports = await prober.ProbeRoundAsync(options.Monitor.ProbeInterval * 0.8, cancellationToken);
        var view = ClusterView.Build(reports, coordinator.RecordedPrimary, latest.LastKnownPrimaryLsn ?? coordinator.SavedPrimaryLsn, time.GetUtcNow());
        latest.Publish(view);
        metrics.Publish(view);
        changes.Observe(view);
        heartbeat.Beat(time.GetUtcNow());
        if (view.Find(coordinator.RecordedPrimary) is { Report.Reachable: false })
        {
            await leadership.RefreshVotesAsync(cancellationToken);
        }

        await coordinator.OnRoundAsync(view, cancellationToken);
        leadership.Observe(coordinator.RecordedPrimary, coordinator.PrimaryFailures, view.Primaries is [var writable] ? writable.Name : null);
    }
}
