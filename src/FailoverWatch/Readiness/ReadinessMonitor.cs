using FailoverWatch.Configuration;
using FailoverWatch.Failover;
using FailoverWatch.Logging;
using FailoverWatch.Monitoring;
using FailoverWatch.Routing;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Readiness;

/// <summary>
/// Runs the doctor's checks in the host every readiness_interval, and at once after any change of role,
/// reachability or streaming in the monitor's rounds; publishes <c>failoverwatch_failover_ready</c> per standby
/// and keeps the report for <c>/status</c>. Logs each standby's change of readiness once.
/// </summary>
internal sealed class ReadinessMonitor(
    FailoverWatchOptions options,
    LatestClusterView latest,
    FailoverCoordinator coordinator,
    FailoverReadiness readiness,
    FailoverWatchMetrics metrics,
    TimeProvider time,
    ILogger<ReadinessMonitor> logger) : BackgroundService
{
    private readonly string _cluster = options.Cluster.Name;
    private string? _checkedSignature;

    // Monotonic (time.GetTimestamp()): a wall clock stepped back or forward must not hold or hurry the next check.
    private long _checkedAt;
    private readonly SemaphoreSlim _one = new(1, 1);

    public ReadinessReport? Current { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Monitor.ProbeInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await CheckIfDueAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    logger.ReadinessCheckFailed(e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    internal Task CheckIfDueAsync(CancellationToken cancellationToken) => CheckAsync(onlyIfDue: true, cancellationToken);

    /// <summary>Runs the checks now, whatever the last one found and when: for a drill about to start.</summary>
    public Task CheckNowAsync(CancellationToken cancellationToken) => CheckAsync(onlyIfDue: false, cancellationToken);

    private async Task CheckAsync(bool onlyIfDue, CancellationToken cancellationToken)
    {
        // One check at a time, so an older verdict never replaces a newer one.
        await _one.WaitAsync(cancellationToken);
        try
        {
            if (latest.Current is not { } view)
            {
                return;
            }

            var primary = ClusterPrimary.Name(view, coordinator.State);
            var signature = Signature(view, primary);
            if (onlyIfDue && signature == _checkedSignature && time.GetElapsedTime(_checkedAt) < options.Monitor.ReadinessInterval)
            {
                return;
            }

            var report = await readiness.CheckAsync(view, primary, cancellationToken);
            Publish(report, primary);
            (_checkedSignature, _checkedAt) = (signature, time.GetTimestamp());
        }
        finally
        {
            _one.Release();
        }
    }

    private void Publish(ReadinessReport report, string? primary)
    {
        foreach (var (node, ready) in report.Standbys)
        {
            metrics.FailoverReady.Set(ready ? 1 : 0, _cluster, node);
            var was = Current?.Standbys.GetValueOrDefault(node);
            if (was != ready)
            {
                if (ready)
                {
                    logger.FailoverReady(node);
                }
                else
                {
                    logger.FailoverNotReady(node, string.Join("; ", report.Problems.Where(p => p.Blocks(node))));
                }
            }
        }

        if (primary is not null)
        {
            metrics.FailoverReady.Remove(_cluster, primary);
        }

        Current = report;
    }

    /// <summary>What a change of calls for checking again at once: roles, reachability, streaming, the primary.</summary>
    private static string Signature(ClusterView view, string? primary) =>
        string.Join(',', view.Nodes.Select(n => $"{n.Name}:{n.Report.Role}:{n.Report.Reachable}:{n.IsStreaming}")) + "|" + primary;
}
