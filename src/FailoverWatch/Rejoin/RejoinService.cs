using System.Globalization;
using System.Text.Json;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Failover;
using FailoverWatch.Incidents;
using FailoverWatch.Monitoring;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Rejoin;

/// <summary>
/// Brings nodes back as standbys of the recorded primary with their <c>rejoin_command</c>: the fenced old primary
/// after a failover, the stopped one after a switchover, and a standby with a rejoin_command that has not streamed for
/// <see cref="NotStreamingFor"/> while the primary is up (a third node left following the old primary). One run at a time, beside the monitor loop and without
/// the decision lock (a rejoin may take many minutes: probing, split-brain handling and /status go on), bounded by
/// <c>monitor.rejoin_timeout</c>, tried again after <c>monitor.rejoin_retry</c> until it works. Nothing runs while
/// paused, while a failover is under way, or on a monitor that is not the leader.
/// </summary>
internal sealed class RejoinService(
    FailoverWatchOptions options,
    IClusterStateStore store,
    ClusterCommandRunner commands,
    LatestClusterView latest,
    FailoverWatchMetrics metrics,
    TimeProvider time,
    ILogger<RejoinService> logger,
    IMonitorLeadership? leadership = null) : BackgroundService
{
    public const string StreamingResult = "streaming";
    public const string FailedResult = "failed";
    public static readonly TimeSpan NotStreamingFor = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private readonly IMonitorLeadership _leadership = leadership ?? new SoleMonitor();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (IncidentHandle Incident, DateTimeOffset Due)> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _notStreamingSince = new(StringComparer.Ordinal);

    /// <summary>Rejoins <paramref name="node"/> as soon as nothing holds it back; its outcome goes into <paramref name="incident"/>.</summary>
    public void Request(string node, IncidentHandle incident)
    {
        if (string.IsNullOrWhiteSpace(options.Cluster.Nodes.FirstOrDefault(n => n.Name == node)?.RejoinCommand))
        {
            logger.NoRejoinCommand(node);
            return;
        }

        lock (_gate)
        {
            _pending[node] = (incident, time.GetUtcNow());
        }

        logger.RejoinQueued(node, store.Current.Primary ?? "?");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var node in options.Cluster.Nodes.Where(n => !string.IsNullOrWhiteSpace(n.RejoinCommand)))
        {
            metrics.Rejoins.Touch(options.Cluster.Name, node.Name, StreamingResult);
            metrics.Rejoins.Touch(options.Cluster.Name, node.Name, FailedResult);
            metrics.SalvagedCommits.Touch(options.Cluster.Name, node.Name);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            WatchStandbys();
            if (NextDue() is { } node)
            {
                try
                {
                    await RunAsync(node.Name, node.Incident, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // Never the host's end: the node waits for its retry like any failed rejoin.
                    logger.RejoinBroke(node.Name, e);
                    Reschedule(node.Name, node.Incident);
                }
            }
            else
            {
                await Task.Delay(Tick, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>
    /// Asks for a rejoin of each standby that has not streamed for <see cref="NotStreamingFor"/> while the recorded
    /// primary is up. Only reachable standbys: a node that is down is the fence's and the failover's business, and an
    /// operator gives no rejoin_command to a standby meant to be archive-only.
    /// </summary>
    private void WatchStandbys()
    {
        var view = latest.Current;
        var primary = store.Current.Primary;
        if (view is null || primary is null || view.Find(primary) is not { IsReachablePrimary: true })
        {
            _notStreamingSince.Clear();
            return;
        }

        foreach (var node in options.Cluster.Nodes.Where(n => n.Name != primary && !string.IsNullOrWhiteSpace(n.RejoinCommand)))
        {
            if (view.Find(node.Name) is not { IsReachableStandby: true, IsStreaming: false })
            {
                _notStreamingSince.Remove(node.Name);
                continue;
            }

            var since = _notStreamingSince.TryGetValue(node.Name, out var at) ? at : _notStreamingSince[node.Name] = view.At;
            bool pending;
            lock (_gate)
            {
                pending = _pending.ContainsKey(node.Name);
            }

            if (!pending && view.At - since >= NotStreamingFor)
            {
                _notStreamingSince.Remove(node.Name);
                Request(node.Name, IncidentHandle.None);
            }
        }
    }

    private (string Name, IncidentHandle Incident)? NextDue()
    {
        var state = store.Current;
        if (state.Paused || state.InProgress is not null || state.Primary is null || !_leadership.IsLeader)
        {
            return null;
        }

        lock (_gate)
        {
            var now = time.GetUtcNow();
            var due = _pending.Where(p => p.Value.Due <= now && p.Key != state.Primary).OrderBy(p => p.Value.Due).FirstOrDefault();
            return due.Key is null ? null : (due.Key, due.Value.Incident);
        }
    }

    private async Task RunAsync(string node, IncidentHandle incident, CancellationToken cancellationToken)
    {
        var primary = store.Current.Primary!;
        var primaryNode = options.Cluster.Nodes.First(n => n.Name == primary);
        var environment = new Dictionary<string, string>
        {
            ["FW_NEW_PRIMARY_HOST"] = primaryNode.Host,
            ["FW_NEW_PRIMARY_PORT"] = primaryNode.Port.ToString(CultureInfo.InvariantCulture),
            ["FW_INCIDENT"] = incident.Id ?? "",
        };
        var command = options.Cluster.Nodes.First(n => n.Name == node).RejoinCommand!;
        var result = await commands.RunForResultAsync(
            ClusterCommandRunner.Rejoin, command, node, ClusterCommandRunner.Rejoin, node, primary, environment, options.Monitor.RejoinTimeout, cancellationToken);
        if (result.Succeeded)
        {
            var outcome = LastJsonLine(result.StandardOutput);
            lock (_gate)
            {
                _pending.Remove(node);
            }

            metrics.Rejoins.Inc(options.Cluster.Name, node, StreamingResult);
            if (outcome?.Salvage is { } salvage)
            {
                metrics.SalvagedCommits.Add(salvage.Commits, options.Cluster.Name, node);
            }

            logger.Rejoined(node, primary, outcome?.Rewound ?? false, outcome?.Salvage?.Commits ?? 0, outcome?.Salvage?.Dir ?? "-");
            incident.Rejoined(node, true, null, outcome is null ? null : new IncidentRejoin(node, outcome.Rewound, outcome.TookSeconds), outcome?.Salvage, cancellationToken);
            return;
        }

        Reschedule(node, incident);
        metrics.Rejoins.Inc(options.Cluster.Name, node, FailedResult);
        logger.RejoinFailed(node, Duration.Format(options.Monitor.RejoinRetry));
        incident.Rejoined(node, false, result.Describe(), null, null, cancellationToken);
    }

    private void Reschedule(string node, IncidentHandle incident)
    {
        lock (_gate)
        {
            _pending[node] = (incident, time.GetUtcNow() + options.Monitor.RejoinRetry);
        }
    }

    /// <summary>The JSON object <c>failoverwatch rejoin</c> prints last; another command may print none.</summary>
    private static RejoinOutcome? LastJsonLine(string output)
    {
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (last is null || !last.StartsWith('{'))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(last, RejoinJsonContext.Default.RejoinOutcome);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
