using System.Text.Json;
using FailoverWatch.Configuration;
using FailoverWatch.State;
using FailoverWatch.Telemetry;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Coordination;

/// <summary>
/// This monitor's part in the group, through etcd, each tick (a third of lease_ttl, or probe_interval if shorter):
/// renews its lease (<see cref="MonitorLease"/>), makes sure it is registered (<see cref="MonitorMembership"/>),
/// reads the group: the state, what the monitors see (<see cref="MonitorVotes"/>) and who leads
/// (<see cref="LeaderElection"/>). State writes are fenced by the leader key's revision (<see cref="EtcdStateStore"/>),
/// so a leader paused past its lease can neither act on stale leadership nor write.
/// </summary>
internal sealed class ClusterCoordination : BackgroundService, IMonitorLeadership
{
    private readonly FailoverWatchOptions _options;
    private readonly IEtcdGateway _etcd;
    private readonly EtcdKeys _keys;
    private readonly EtcdStateStore _state;
    private readonly LeaderFence _fence;
    private readonly FailoverWatchMetrics _metrics;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeProvider _time;
    private readonly ILogger<ClusterCoordination> _logger;
    private readonly string _name;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly string _http;
    private readonly TimeSpan _ttl;
    private readonly MonitorLease _lease;
    private readonly MonitorMembership _membership;
    private readonly LeaderElection _election;
    private readonly MonitorVotes _votes;
    private readonly ActionGuard _guard;
    private readonly SwitchoverJournal _switchovers;
    private readonly HistoryCompactor _compactor;
    private readonly MonitorViewsWatch _watch;
    private bool _majoritySeesPrimaryDown;
    private bool _imported;
    private bool? _up;
    private bool _refused;
    private volatile MonitorView _own;
    private Func<CancellationToken, Task>? _decideNow;

    public ClusterCoordination(
        FailoverWatchOptions options,
        IEtcdGateway etcd,
        EtcdKeys keys,
        EtcdStateStore state,
        LeaderFence fence,
        FailoverWatchMetrics metrics,
        IHostApplicationLifetime lifetime,
        TimeProvider time,
        ILogger<ClusterCoordination> logger)
    {
        (_options, _etcd, _keys, _state, _fence, _metrics, _lifetime, _time, _logger) = (options, etcd, keys, state, fence, metrics, lifetime, time, logger);
        _name = options.Coordination!.Name;
        _http = CoordinationConfigValidator.Advertised(options.Http)!.GetLeftPart(UriPartial.Authority);
        _ttl = options.Coordination.Etcd.LeaseTtl;
        _lease = new MonitorLease(etcd, _ttl, time);
        _membership = new MonitorMembership(etcd, keys, _lease, _name, _instance, Tick, time, logger);
        _election = new LeaderElection(etcd, keys, fence, state, _lease, _name, logger);

        // A view is republished every tick: one not renewed for a lease and two probe rounds is a monitor that stopped.
        _votes = new MonitorVotes(_name, _ttl + options.Monitor.ProbeInterval * 2, time);
        _guard = new ActionGuard(etcd, keys, fence, _lease, _name, time, logger);
        _switchovers = new SwitchoverJournal(etcd, keys, fence);
        _compactor = new HistoryCompactor(etcd, logger);
        _watch = new MonitorViewsWatch(etcd, keys.Monitors, _votes, time);
        _own = View(null, 0);
    }

    public string MonitorName => _name;

    /// <summary>Set when this monitor refused to run (its name is taken): the host stops and exits non-zero.</summary>
    public string? Refusal => _membership.Refusal;

    public bool Up => _up == true;

    public string? Leader => _election.Leader;

    public IReadOnlyList<MonitorView> Monitors => _votes.All;

    /// <summary>Leads only with a token and a lease that cannot have expired yet by the monotonic clock.</summary>
    public bool IsLeader => _election.IsLeader;

    internal MonitorMembership Membership => _membership;

    internal Task Resuming => _election.Resuming;

    internal bool ViewsWatched => _watch.Live;

    private TimeSpan Tick => TimeSpan.FromTicks(Math.Min(_ttl.Ticks / 3, _options.Monitor.ProbeInterval.Ticks));

    public MonitorQuorum Quorum(string? primary, int ownPrimaryFailures) => _votes.Quorum(View(primary, ownPrimaryFailures), _options.Monitor.FailureThreshold);

    /// <summary>The <c>/status</c> fields of coordination: <c>monitor_name</c>, <c>leader</c>, <c>monitors</c>.</summary>
    public Dictionary<string, JsonElement> StatusFields() => CoordinationStatus.Fields(_name, Up ? Leader : null, Monitors);

    /// <summary>
    /// The views as of now rather than as of the last tick, read only while the watch is broken (it is as current
    /// otherwise). Bounded by the etcd call timeout; without etcd it does nothing (there is no decision to take then anyway).
    /// </summary>
    public async Task RefreshVotesAsync(CancellationToken cancellationToken)
    {
        if (!IsLeader || !Up || _watch.Live)
        {
            return;
        }

        try
        {
            var (kvs, revision) = await _etcd.ReadPrefixAsync(_keys.Monitors, cancellationToken);
            _votes.Update(kvs, revision);
        }
        catch (RpcException)
        {
            // The tick finds etcd down and says so.
        }
    }

    public Task<long?> GuardActionAsync(string action, string node, CancellationToken cancellationToken) => _guard.GuardAsync(action, node, cancellationToken);

    public Task RecordSwitchoverAsync(SwitchoverRecord? record, CancellationToken cancellationToken) => _switchovers.WriteAsync(record, cancellationToken);

    public void OnSwitchoverFound(Func<SwitchoverRecord, CancellationToken, Task> resume) => _election.Resume = resume;

    public void OnMajority(Func<CancellationToken, Task> decide) => _decideNow = decide;

    /// <summary>After each probe round: publishes this monitor's view when it changed or is getting old, without waiting for etcd.</summary>
    public void Observe(string? primary, int primaryFailures)
    {
        _own = View(primary, primaryFailures);
        _membership.Observe(_own, _lifetime.ApplicationStopping);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);

        // Hands over at once rather than after lease_ttl: the leader key and this monitor's view go with the lease.
        _fence.Drop();
        try
        {
            await _lease.RevokeAsync(cancellationToken);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
            // etcd lets it expire.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _logger.Starting(_name, string.Join(", ", _options.Coordination!.Etcd.Endpoints), _keys.Root, Duration.Format(_ttl));
        _metrics.IsLeader.Set(0, _options.Cluster.Name);
        _metrics.CoordinationUp.Set(0, _options.Cluster.Name);
        using var timer = new PeriodicTimer(Tick, _time);
        var votes = WatchViewsAsync(stoppingToken);
        do
        {
            try
            {
                await TickAsync(stoppingToken);
                if (_up != true && Refusal is null)
                {
                    _logger.EtcdUp(_name);
                }

                _up = true;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Unreachable, without quorum, refusing our credentials, a TLS failure: not usable. Said once per kind, retried each tick.
                var refused = e is RpcException { StatusCode: StatusCode.Unauthenticated or StatusCode.InvalidArgument or StatusCode.PermissionDenied };
                var why = e is RpcException rpc ? rpc.Status.Detail : e.Message;
                if (_up != false || refused != _refused)
                {
                    if (refused)
                    {
                        _logger.EtcdAuthFailed(why);
                    }
                    else
                    {
                        _logger.EtcdDown(why);
                    }
                }

                _refused = refused;
                _up = false;
                _election.Forget("etcd does not answer");
            }

            Publish();
            if (Refusal is not null)
            {
                _lifetime.StopApplication();
                break;
            }
        }
        while (await WaitForNextTickAsync(timer, stoppingToken));

        await votes;
    }

    internal async Task TickAsync(CancellationToken cancellationToken)
    {
        var hadLease = _lease.Id != 0;
        if (await _lease.RenewAsync(cancellationToken) && hadLease)
        {
            _election.Lose("its lease expired (this monitor or etcd was unreachable for lease_ttl)");
        }

        if (!_membership.Registered && !await RegisterAsync(cancellationToken))
        {
            return;
        }

        // All but the incidents: they are many and big, and read only when shown or before the leader writes one.
        var (group, revision) = await _etcd.GetPrefixExceptAsync(_keys.Root, _keys.Incidents, cancellationToken);
        var byKey = group.ToDictionary(kv => kv.Key.ToStringUtf8(), StringComparer.Ordinal);
        _state.Refresh(byKey.GetValueOrDefault(_keys.State));

        // Read, never remembered: a key lost with its lease is registered again next tick.
        _membership.Confirm(byKey.GetValueOrDefault(_keys.Monitor(_name)));
        _votes.Update(group.Where(kv => kv.Key.ToStringUtf8().StartsWith(_keys.Monitors, StringComparison.Ordinal)), revision);
        await _election.FollowAsync(byKey.GetValueOrDefault(_keys.Leader), cancellationToken);
        if (IsLeader && group.Count > 0)
        {
            await _compactor.CompactAsync(group.Max(kv => kv.ModRevision), cancellationToken);
        }
    }

    private async Task<bool> RegisterAsync(CancellationToken cancellationToken)
    {
        if (!await _membership.RegisterAsync(_own, cancellationToken))
        {
            return false;
        }

        if (!_imported)
        {
            _imported = true;
            await _state.ImportOnceAsync(_options.Monitor.StateFile, cancellationToken);
        }

        return true;
    }

    /// <summary>
    /// The monitors' views, watched. After every change the watch brings, the leader decides the moment they make a
    /// majority that sees the primary down, rather than at its own next probe round (up to probe_interval later).
    /// </summary>
    internal Task WatchViewsAsync(CancellationToken stoppingToken) => _watch.RunAsync(OnViewsChangedAsync, stoppingToken);

    private async Task OnViewsChangedAsync(CancellationToken stoppingToken)
    {
        var own = _own;
        var wasDown = _majoritySeesPrimaryDown;
        _majoritySeesPrimaryDown = Quorum(own.Primary, own.PrimaryFailures).MajoritySeesPrimaryDown;
        if (wasDown || !_majoritySeesPrimaryDown || !IsLeader || _decideNow is not { } decide)
        {
            return;
        }

        try
        {
            await decide(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // A decision that failed: the next round logs and retries it.
        }
    }

    private static async Task<bool> WaitForNextTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Publish()
    {
        var cluster = _options.Cluster.Name;
        _metrics.IsLeader.Set(IsLeader ? 1 : 0, cluster);
        _metrics.CoordinationUp.Set(Up ? 1 : 0, cluster);
        _metrics.Monitors.Set(Up ? Monitors.Count : 0, cluster);
    }

    private MonitorView View(string? primary, int primaryFailures) =>
        new(_name, _instance, _http, primary, primaryFailures, primaryFailures < _options.Monitor.FailureThreshold, _time.GetUtcNow());
}
