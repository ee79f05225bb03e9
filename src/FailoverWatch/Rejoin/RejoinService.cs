using System.Globalization;
using System.Text.Json;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Failover;
using FailoverWatch.Incidents;
using FailoverWatch.Monitoring;
using FailoverWatch.State;
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
/// paused, while a failover is under way, or on a monitor that is not the leader. Pending rejoins live in the state
/// (file or etcd), so a restarted monitor or a new leader carries them on. In <c>sync</c> mode a node the primary still
/// waits on is not restarted until the synchronous set has let it go (un-recorded, then un-named: see
/// <see cref="Replication.SyncStandbyManager.Holds"/>), so no commit waits on a node being rejoined.
/// </summary>
internal sealed class RejoinService(
    FailoverWatchOptions options,
    IClusterStateStore store,
    ClusterCommandRunner commands,
    LatestClusterView latest,
    FailoverWatchMetrics metrics,
    TimeProvider time,
    ILogger<RejoinService> logger,
    IMonitorLeadership? leadership = null,
    Replication.SyncStandbyManager? replication = null) : BackgroundService, IRejoinRequests
{
    public const string StreamingResult = "streaming";
    public const string FailedResult = "failed";
    public static readonly TimeSpan NotStreamingFor = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    /// <summary>How often the upstream of streaming standbys is checked (a few queries on each reachable node).</summary>
    public static readonly TimeSpan UpstreamCheckEvery = TimeSpan.FromSeconds(10);

    private readonly IMonitorLeadership _leadership = leadership ?? new SoleMonitor();
    private readonly Lock _gate = new();

    /// <summary>Asked for, not yet in the state: a standby found not streaming, or a request whose own write failed (both written on the service's loop).</summary>
    private readonly Dictionary<string, PendingRejoin> _asked = new(StringComparer.Ordinal);

    /// <summary>The open incidents of this monitor's requests; a rejoin carried on after a restart records into none.</summary>
    private readonly Dictionary<string, IncidentHandle> _incidents = new(StringComparer.Ordinal);

    /// <summary>Rejoined, but the state write that says so failed: never run again, and its removal is tried each tick.</summary>
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);

    /// <summary>The node whose rejoin_command runs now, until its outcome is recorded.</summary>
    private string? _running;

    private readonly UpstreamCorrector _upstreams = new(options, time, logger);
    private long _upstreamsCheckedAt;
    private readonly Dictionary<string, DateTimeOffset> _notStreamingSince = new(StringComparer.Ordinal);

    /// <summary>Rejoins <paramref name="node"/> as soon as nothing holds it back; its outcome goes into <paramref name="incident"/>.</summary>
    public async Task RequestAsync(string node, IncidentHandle incident, CancellationToken cancellationToken)
    {
        // Only the leader writes the state (and only the leader asks); elsewhere the request waits in memory.
        if (Ask(node, incident) is not { } pending || !_leadership.IsLeader)
        {
            return;
        }

        await store.UpdateAsync(s => s with { Rejoins = [.. s.Rejoins.Where(p => p.Node != node), pending] }, cancellationToken);
        lock (_gate)
        {
            if (_asked.GetValueOrDefault(node) == pending)
            {
                _asked.Remove(node);
            }
        }
    }

    public bool IsRejoining(string node)
    {
        // _asked before the state: a request goes into the state first and out of _asked after, so it is never missed between the two.
        bool asked;
        lock (_gate)
        {
            if (_running == node)
            {
                return true;
            }

            asked = _asked.ContainsKey(node);
        }

        // A node made primary since its rejoin was asked for needs none: its entry goes at the next save.
        var state = store.Current;
        if (state.Primary == node)
        {
            return false;
        }

        var saved = state.Rejoins.Any(r => r.Node == node);
        lock (_gate)
        {
            return asked || (saved && !_done.Contains(node) && options.Cluster.HasRejoinCommand(node));
        }
    }

    /// <summary>Queued for the next tick's state write; null when the node has no rejoin_command.</summary>
    private PendingRejoin? Ask(string node, IncidentHandle incident)
    {
        var pending = Prepare(node, incident);
        if (pending is not null)
        {
            lock (_gate)
            {
                _asked[node] = pending;
            }
        }

        return pending;
    }

    public PendingRejoin? Prepare(string node, IncidentHandle incident)
    {
        if (!options.Cluster.HasRejoinCommand(node))
        {
            logger.NoRejoinCommand(node);
            return null;
        }

        lock (_gate)
        {
            _incidents[node] = incident;
            _done.Remove(node);
        }

        logger.RejoinQueued(node, store.Current.Primary ?? "?");
        return new PendingRejoin(node, time.GetUtcNow(), incident.Id);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var node in options.Cluster.Nodes.Where(n => n.HasRejoinCommand()))
        {
            metrics.Rejoins.Touch(options.Cluster.Name, node.Name, StreamingResult);
            metrics.Rejoins.Touch(options.Cluster.Name, node.Name, FailedResult);
            metrics.SalvagedCommits.Touch(options.Cluster.Name, node.Name);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            WatchStandbys();
            await SaveAsync(stoppingToken);
            await CheckUpstreamsAsync(stoppingToken);
            if (NextDue() is { } node)
            {
                lock (_gate)
                {
                    _running = node.Node;
                }

                try
                {
                    await RunAsync(node, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // Never the host's end: the node waits for its retry like any failed rejoin.
                    logger.RejoinBroke(node.Node, e);
                    await RescheduleAsync(node, stoppingToken);
                }
                finally
                {
                    lock (_gate)
                    {
                        _running = null;
                    }
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

        foreach (var node in options.Cluster.Nodes.Where(n => n.Name != primary && n.HasRejoinCommand()))
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
                pending = _asked.ContainsKey(node.Name) || store.Current.Rejoins.Any(r => r.Node == node.Name);
            }

            if (!pending && view.At - since >= NotStreamingFor)
            {
                _notStreamingSince.Remove(node.Name);
                Ask(node.Name, IncidentHandle.None);
            }
        }
    }

    /// <summary>
    /// Writes what was asked for into the state (only the leader acts on it, and only the leader asks), and takes out
    /// the rejoins done whose removal failed before and any of the recorded primary. A write that fails is tried on the next tick.
    /// </summary>
    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        List<PendingRejoin> asked;
        List<string> done;
        lock (_gate)
        {
            (asked, done) = ([.. _asked.Values], [.. _done]);
        }

        var state = store.Current;
        if ((asked.Count == 0 && done.Count == 0 && !state.Rejoins.Any(p => p.Node == state.Primary)) || !_leadership.IsLeader)
        {
            return;
        }

        if (await TryUpdateAsync(r => [.. r.Where(p => !asked.Any(a => a.Node == p.Node) && !done.Contains(p.Node)), .. asked], cancellationToken))
        {
            lock (_gate)
            {
                foreach (var saved in asked.Where(a => _asked.GetValueOrDefault(a.Node) == a))
                {
                    _asked.Remove(saved.Node);
                }

                _done.ExceptWith(done);
            }
        }
    }

    /// <summary>
    /// A healthy standby that streams from the wrong node needs only <c>primary_conninfo</c> and a reload, not a rejoin:
    /// checked every <see cref="UpstreamCheckEvery"/> by the leader while the primary is up and nothing else is under
    /// way, leaving out nodes with a rejoin pending (they are about to restart anyway).
    /// </summary>
    private async Task CheckUpstreamsAsync(CancellationToken cancellationToken)
    {
        var state = store.Current;
        var view = latest.Current;
        if (state.Paused || state.InProgress is not null || state.Primary is not { } primary || !_leadership.IsLeader
            || view?.Find(primary) is not { IsReachablePrimary: true } || time.GetElapsedTime(_upstreamsCheckedAt) < UpstreamCheckEvery)
        {
            return;
        }

        _upstreamsCheckedAt = time.GetTimestamp();
        HashSet<string> pending;
        lock (_gate)
        {
            pending = [.. _asked.Keys.Concat(state.Rejoins.Select(r => r.Node))];
        }

        await _upstreams.CheckAsync(view, primary, pending, cancellationToken);
    }

    private PendingRejoin? NextDue()
    {
        var state = store.Current;
        if (state.Paused || state.InProgress is not null || state.Primary is null || !_leadership.IsLeader)
        {
            return null;
        }

        var now = time.GetUtcNow();
        lock (_gate)
        {
            return state.Rejoins
                .Where(p => p.Due <= now && p.Node != state.Primary && !_asked.ContainsKey(p.Node) && !_done.Contains(p.Node) && replication?.Holds(p.Node) != true
                    && options.Cluster.HasRejoinCommand(p.Node))
                .OrderBy(p => p.Due)
                .FirstOrDefault();
        }
    }

    private async Task RunAsync(PendingRejoin pending, CancellationToken cancellationToken)
    {
        var node = pending.Node;
        IncidentHandle incident;
        lock (_gate)
        {
            incident = _incidents.GetValueOrDefault(node) ?? IncidentHandle.None;
        }

        var primary = store.Current.Primary!;
        var primaryNode = options.Cluster.Node(primary);
        var environment = new Dictionary<string, string>
        {
            ["FW_NEW_PRIMARY_HOST"] = primaryNode.Host,
            ["FW_NEW_PRIMARY_PORT"] = primaryNode.Port.ToString(CultureInfo.InvariantCulture),
            ["FW_INCIDENT"] = incident.Id ?? pending.IncidentId ?? "",
        };
        var command = options.Cluster.Node(node).RejoinCommand!;
        var result = await commands.RunForResultAsync(
            ClusterCommandRunner.Rejoin, command, node, ClusterCommandRunner.Rejoin, node, primary, environment, options.Monitor.RejoinTimeout, cancellationToken);
        if (result.Succeeded)
        {
            var outcome = LastJsonLine(result.StandardOutput);
            if (!await TryUpdateAsync(r => [.. r.Where(p => p.Node != node)], cancellationToken))
            {
                lock (_gate)
                {
                    _done.Add(node);
                }
            }

            lock (_gate)
            {
                _incidents.Remove(node);
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

        await RescheduleAsync(pending, cancellationToken);
        metrics.Rejoins.Inc(options.Cluster.Name, node, FailedResult);
        logger.RejoinFailed(node, Duration.Format(options.Monitor.RejoinRetry));
        incident.Rejoined(node, false, result.Describe(), null, null, cancellationToken);
    }

    /// <summary>Due again after rejoin_retry; should the state not take it, the next tick's save tries again.</summary>
    private async Task RescheduleAsync(PendingRejoin pending, CancellationToken cancellationToken)
    {
        var again = pending with { Due = time.GetUtcNow() + options.Monitor.RejoinRetry };
        if (!await TryUpdateAsync(r => [.. r.Where(p => p.Node != pending.Node), again], cancellationToken))
        {
            lock (_gate)
            {
                _asked.TryAdd(pending.Node, again);
            }
        }
    }

    private async Task<bool> TryUpdateAsync(Func<IReadOnlyList<PendingRejoin>, IReadOnlyList<PendingRejoin>> change, CancellationToken cancellationToken)
    {
        try
        {
            // Never one of the recorded primary (a node asked for, then promoted): it would never run, yet count as rejoining.
            await store.UpdateAsync(s => s with { Rejoins = [.. change(s.Rejoins).Where(p => p.Node != s.Primary)] }, cancellationToken);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.RejoinsNotSaved(e);
            return false;
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
