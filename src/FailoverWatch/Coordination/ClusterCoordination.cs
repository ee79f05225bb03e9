using System.Text.Json;
using FailoverWatch.Configuration;
using FailoverWatch.State;
using FailoverWatch.Telemetry;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Mvccpb;

namespace FailoverWatch.Coordination;

/// <summary>
/// This monitor's part in the group, through etcd, each tick (a third of lease_ttl): renews its lease
/// (<see cref="MonitorLease"/>), makes sure it is registered (<see cref="MonitorMembership"/>). The group's keys come
/// on one watch (<see cref="MonitorGroupWatch"/>): what the monitors see (<see cref="MonitorVotes"/>) and the state as
/// they change; a change of the leader key or of its own key wakes the loop to read the group and run for leader
/// (<see cref="LeaderElection"/>) at once. The group is read anyway every <see cref="GroupReadEvery"/>, and every tick
/// while the watch is broken. State writes are fenced by the leader key's revision (<see cref="EtcdStateStore"/>),
/// so a leader paused past its lease can neither act on stale leadership nor write.
/// </summary>
internal sealed class ClusterCoordination : BackgroundService, IMonitorLeadership
{
    /// <summary>The group read that backs the watch up while it delivers (what changed is already applied).</summary>
    internal static readonly TimeSpan GroupReadEvery = TimeSpan.FromSeconds(10);

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
    private readonly MonitorGroupWatch _watch;
    private bool _majoritySeesPrimaryDown;
    private bool _imported;
    private bool? _up;
    private bool _refused;
    private volatile MonitorView _own;
    private volatile string? _lastWritable;
    private Func<CancellationToken, Task>? _decideNow;
    private long _renewedAt;
    private long _readAt;
    private volatile bool _readNow = true;
    private volatile TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

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

        // A view not renewed for a lease and two probe rounds is a monitor that stopped. An unchanged view goes out
        // again after a third of that (at the round after), so it is at most about half that old while its monitor
        // runs; a changed one goes out at once.
        var maxAge = _ttl + options.Monitor.ProbeInterval * 2;
        _votes = new MonitorVotes(_name, maxAge, time);
        _membership = new MonitorMembership(etcd, keys, _lease, _name, _instance, maxAge / 3, time, logger);
        _election = new LeaderElection(etcd, keys, fence, state, _lease, _name, logger);
        _guard = new ActionGuard(etcd, keys, fence, _lease, _name, time, logger);
        _switchovers = new SwitchoverJournal(etcd, keys, fence);
        _compactor = new HistoryCompactor(etcd, logger);
        _watch = new MonitorGroupWatch(etcd, keys, _votes, time);
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

    internal bool GroupWatched => _watch.Live;

    /// <summary>The lease is renewed every tick: a third of lease_ttl, as etcd's own clients do.</summary>
    private TimeSpan Tick => _ttl / 3;

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
    public void Observe(string? primary, int primaryFailures, string? onlyWritable = null)
    {
        // Kept while no node is writable: the node last seen so is what a new leader may need to know (MonitorView).
        _lastWritable = onlyWritable ?? _lastWritable;
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
        var watching = WatchGroupAsync(stoppingToken);
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
                // A refused certificate's alert is not always read before etcd closes: until etcd answers, still refused.
                var certificate = EtcdCertificateRefusal.Reason(e, _options.Coordination!.Etcd);
                var refused = certificate is not null || (_refused && _up == false) || e is RpcException { StatusCode: StatusCode.Unauthenticated or StatusCode.InvalidArgument or StatusCode.PermissionDenied };
                var why = certificate ?? (e is RpcException rpc ? rpc.Status.Detail : e.Message);
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

                // Who leads is known again only from a read: the next tick reads, live watch or not.
                _readNow = true;
            }

            Publish();
            if (Refusal is not null)
            {
                _lifetime.StopApplication();
                break;
            }
        }
        while (await WaitForNextTickAsync(stoppingToken));

        await watching;
    }

    internal async Task TickAsync(CancellationToken cancellationToken)
    {
        if (_lease.Id == 0 || !_membership.Registered || NextRenewal <= TimeSpan.Zero)
        {
            await RenewAsync(cancellationToken);
        }

        if (!_membership.Registered && !await RegisterAsync(cancellationToken))
        {
            return;
        }

        if (!_readNow && _watch.Live && _time.GetElapsedTime(_readAt) < GroupReadEvery)
        {
            return;
        }

        if (await ReadGroupAsync(cancellationToken) is not var (group, revision, byKey))
        {
            return;
        }

        _votes.Update(group.Where(kv => _keys.IsMonitor(kv.Key.ToStringUtf8())), revision);
        var wasLeader = IsLeader;
        await _election.FollowAsync(byKey.GetValueOrDefault(_keys.Leader), cancellationToken);
        if (IsLeader && !wasLeader)
        {
            // Elected: the latest round is decided at once, not a round later, so a first start records its primary
            // before anything can kill this leader with it.
            await DecideNowAsync(cancellationToken);
        }

        if (IsLeader && group.Count > 0)
        {
            await _compactor.CompactAsync(group.Max(kv => kv.ModRevision), cancellationToken);
        }
    }

    /// <summary>How long until the lease is renewed again: a tick after the last attempt (a little less, for the timer's jitter).</summary>
    private TimeSpan NextRenewal => Tick * 0.95 - _time.GetElapsedTime(_renewedAt);

    /// <summary>
    /// All but the incidents (many and big, read only when shown or before the leader writes one), by key. Read, never
    /// remembered: its own key lost with its lease (etcd revoked every lease) is registered again at once and the group
    /// read again, so the views read include it. Null when it cannot register (its name is taken).
    /// </summary>
    private async Task<(IReadOnlyList<KeyValue> Group, long Revision, Dictionary<string, KeyValue> ByKey)?> ReadGroupAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            // Taken before the read: a change the watch brings meanwhile asks for another; a read that fails, for the next tick's.
            (_readNow, _readAt) = (false, _time.GetTimestamp());
            IReadOnlyList<KeyValue> group;
            long revision;
            try
            {
                (group, revision) = await _etcd.GetPrefixExceptAsync(_keys.Root, _keys.Incidents, cancellationToken);
            }
            catch
            {
                _readNow = true;
                throw;
            }

            var byKey = group.ToDictionary(kv => kv.Key.ToStringUtf8(), StringComparer.Ordinal);
            _state.Refresh(byKey.GetValueOrDefault(_keys.State));
            _membership.Confirm(byKey.GetValueOrDefault(_keys.Monitor(_name)));
            if (_membership.Registered || attempt > 1)
            {
                return (group, revision, byKey);
            }

            await RenewAsync(cancellationToken);
            if (!await RegisterAsync(cancellationToken))
            {
                return null;
            }
        }
    }

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        var hadLease = _lease.Id != 0;
        _renewedAt = _time.GetTimestamp();
        if (await _lease.RenewAsync(cancellationToken) && hadLease)
        {
            _election.Lose("its lease expired (this monitor or etcd was unreachable for lease_ttl)");
            _readNow = true;
        }
    }

    /// <summary>The group is read at the next tick, which comes at once (the leader key or this monitor's own key changed).</summary>
    private void ReadNow()
    {
        _readNow = true;
        _wake.TrySetResult();
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
    /// The group's keys, watched: the views, the leader key, the state. After every change the watch brings, the leader
    /// decides the moment the views make a majority that sees the primary down, rather than at its own next probe round
    /// (up to probe_interval later).
    /// </summary>
    internal Task WatchGroupAsync(CancellationToken stoppingToken) => _watch.RunAsync(OnGroupChangedAsync, stoppingToken);

    private async Task OnGroupChangedAsync(IReadOnlyList<Event> changes, CancellationToken stoppingToken)
    {
        foreach (var change in changes)
        {
            var key = change.Kv.Key.ToStringUtf8();
            if (key == _keys.State && change.Type == Event.Types.EventType.Put)
            {
                _state.Refresh(change.Kv);
            }
            else if (key == _keys.Leader || (key == _keys.Monitor(_name) && change.Type == Event.Types.EventType.Delete))
            {
                ReadNow();
            }
        }

        if (changes.Count == 0)
        {
            // The watch (re)started from a read of the views: what else changed before it is for a read of the group.
            ReadNow();
        }

        var own = _own;
        var wasDown = _majoritySeesPrimaryDown;
        _majoritySeesPrimaryDown = Quorum(own.Primary, own.PrimaryFailures).MajoritySeesPrimaryDown;
        if (!wasDown && _majoritySeesPrimaryDown && IsLeader)
        {
            await DecideNowAsync(stoppingToken);
        }
    }

    private async Task DecideNowAsync(CancellationToken stoppingToken)
    {
        if (_decideNow is not { } decide)
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

    /// <summary>Until the lease is due for renewal, or at once when a change the watch brought asks for a read.</summary>
    private async Task<bool> WaitForNextTickAsync(CancellationToken stoppingToken)
    {
        using (var delay = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
        {
            var renewal = NextRenewal + Tick * 0.05;
            await Task.WhenAny(_wake.Task, Task.Delay(renewal > TimeSpan.Zero ? renewal : TimeSpan.Zero, _time, delay.Token));
            await delay.CancelAsync();
        }

        // A wake that comes from here on wakes the next wait; one that came just now left _readNow set for this tick.
        _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return !stoppingToken.IsCancellationRequested;
    }

    private void Publish()
    {
        var cluster = _options.Cluster.Name;
        _metrics.IsLeader.Set(IsLeader ? 1 : 0, cluster);
        _metrics.CoordinationUp.Set(Up ? 1 : 0, cluster);
        _metrics.Monitors.Set(Up ? Monitors.Count : 0, cluster);
    }

    private MonitorView View(string? primary, int primaryFailures) =>
        new(_name, _instance, _http, primary, primaryFailures, primaryFailures < _options.Monitor.FailureThreshold, _time.GetUtcNow(), _lastWritable);
}
