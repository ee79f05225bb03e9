using System.Text.Json;
using Etcdserverpb;
using FailoverWatch.Configuration;
using FailoverWatch.Telemetry;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Coordination;

/// <summary>
/// This monitor's membership in the group, through etcd. Each tick (a third of lease_ttl, or probe_interval if shorter)
/// it renews its lease, (re)registers under <c>monitors/NAME</c>, reads the group (leader, state, views), and runs for
/// leader when the key is free (a create-only transaction with its lease). It leads only while its lease is surely
/// alive by its own clock, and its state writes are fenced by the leader key's revision (<see cref="EtcdStateStore"/>),
/// so a leader paused past its lease can neither act on stale leadership nor write.
/// </summary>
internal sealed class ClusterCoordination(
    FailoverWatchOptions options,
    EtcdGateway etcd,
    EtcdKeys keys,
    EtcdStateStore state,
    LeaderFence fence,
    FailoverWatchMetrics metrics,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<ClusterCoordination> logger) : BackgroundService, IMonitorLeadership
{
    private readonly CoordinationOptions _options = options.Coordination!;
    private readonly string _name = options.Coordination!.Name;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly string _http = "http://" + options.Http.Listen;
    private readonly TimeSpan _ttl = options.Coordination!.Etcd.LeaseTtl;
    private readonly Lock _lock = new();
    private long _lease;
    private long _leaseValidUntilTicks;
    private volatile bool _registered;
    private bool _imported;
    private DateTimeOffset? _nameTakenSince;
    private bool? _up;
    private bool _refused;
    private volatile string? _leader;
    private volatile IReadOnlyList<MonitorView> _monitors = [];
    private MonitorView _own = null!;
    private MonitorView? _published;
    private Task _publishing = Task.CompletedTask;
    private Func<CancellationToken, Task>? _decideNow;

    public string MonitorName => _name;

    /// <summary>Set when this monitor refused to run (its name is taken): the host stops and exits non-zero.</summary>
    public string? Refusal { get; private set; }

    public bool Up => _up == true;

    public string? Leader => _leader;

    public IReadOnlyList<MonitorView> Monitors => _monitors;

    /// <summary>Leads only with a token and a lease that cannot have expired yet: renewed at the latest one tick plus one call ago.</summary>
    public bool IsLeader => fence.Token != 0 && time.GetUtcNow().UtcTicks < Interlocked.Read(ref _leaseValidUntilTicks);

    private TimeSpan Tick => TimeSpan.FromTicks(Math.Min(_ttl.Ticks / 3, options.Monitor.ProbeInterval.Ticks));

    private TimeSpan VoteMaxAge => _ttl + options.Monitor.ProbeInterval * 2;

    public MonitorQuorum Quorum(string? primary, int ownPrimaryFailures)
    {
        var own = View(primary, ownPrimaryFailures);
        var views = _monitors.Where(m => m.Name != _name).Append(own).ToList();
        return MonitorQuorum.From(views, primary, options.Monitor.FailureThreshold, time.GetUtcNow(), VoteMaxAge);
    }

    /// <summary>The <c>/status</c> fields of coordination: <c>monitor_name</c>, <c>leader</c>, <c>monitors</c>.</summary>
    public Dictionary<string, JsonElement> StatusFields() => new()
    {
        ["monitor_name"] = JsonSerializer.SerializeToElement(_name, CoordinationJson.Default.String),
        ["leader"] = JsonSerializer.SerializeToElement(Up ? _leader : null, CoordinationJson.Default.String),
        ["monitors"] = JsonSerializer.SerializeToElement([.. _monitors.Select(m => new MonitorStatus(m.Name, m.SeesPrimary, m.SeenAt))], CoordinationJson.Default.ListMonitorStatus),
    };

    /// <summary>
    /// The views as of now rather than as of the last tick: the others publish each failed probe of the primary at
    /// once, so the leader decides on the round that gives the majority, not up to a tick later. Bounded by the etcd
    /// call timeout; without etcd it does nothing (there is no decision to take then anyway).
    /// </summary>
    public async Task RefreshVotesAsync(CancellationToken cancellationToken)
    {
        if (!IsLeader || !Up)
        {
            return;
        }

        try
        {
            _monitors = MonitorView.ReadAll(await etcd.GetPrefixAsync(keys.Monitors, cancellationToken));
        }
        catch (RpcException)
        {
            // The tick finds etcd down and says so.
        }
    }

    public void OnMajority(Func<CancellationToken, Task> decide) => _decideNow = decide;

    /// <summary>After each probe round: publishes this monitor's view when it changed or is getting old, without waiting for etcd.</summary>
    public void Observe(string? primary, int primaryFailures)
    {
        var view = View(primary, primaryFailures);
        lock (_lock)
        {
            _own = view;
            var stale = _published is null || view.SeenAt - _published.SeenAt >= Tick;
            var changed = _published is null || view with { SeenAt = default } != _published with { SeenAt = default };
            if (!_registered || !_publishing.IsCompleted || !(changed || stale))
            {
                return;
            }

            _publishing = PublishAsync(view, lifetime.ApplicationStopping);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);

        // Hands over at once rather than after lease_ttl: the leader key and this monitor's view go with the lease.
        if (Interlocked.Exchange(ref _lease, 0) is var lease and not 0)
        {
            fence.Drop();
            try
            {
                await etcd.RevokeAsync(lease, cancellationToken);
            }
            catch (Exception e) when (e is RpcException or OperationCanceledException)
            {
                // etcd lets it expire.
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.Starting(_name, string.Join(", ", _options.Etcd.Endpoints), keys.Root, Duration.Format(_ttl));
        _own = View(null, 0);
        metrics.IsLeader.Set(0, options.Cluster.Name);
        metrics.CoordinationUp.Set(0, options.Cluster.Name);
        using var timer = new PeriodicTimer(Tick, time);
        var votes = WatchVotesAsync(stoppingToken);
        do
        {
            try
            {
                await TickAsync(stoppingToken);
                if (_up != true && Refusal is null)
                {
                    logger.EtcdUp(_name);
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
                        logger.EtcdAuthFailed(why);
                    }
                    else
                    {
                        logger.EtcdDown(why);
                    }
                }

                _refused = refused;
                _up = false;
            }

            if (_up != true)
            {
                LoseLeadership("etcd does not answer");
            }

            Publish();
            if (Refusal is not null)
            {
                lifetime.StopApplication();
                break;
            }
        }
        while (await WaitForNextTickAsync(timer, stoppingToken));

        await votes;
    }

    /// <summary>
    /// While monitors see the primary failing, the leader re-reads their views every 100 ms and decides as soon as
    /// they make a majority, rather than at its own next probe round (up to probe_interval later). Idle otherwise.
    /// </summary>
    private async Task WatchVotesAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(poll, time, stoppingToken);
                var own = _own;
                if (!IsLeader || !Up || _decideNow is not { } decide || _monitors.Count < 2 || (own.PrimaryFailures == 0 && _monitors.All(m => m.PrimaryFailures == 0))
                    || Quorum(own.Primary, own.PrimaryFailures).MajoritySeesPrimaryDown)
                {
                    continue;
                }

                _monitors = MonitorView.ReadAll(await etcd.GetPrefixAsync(keys.Monitors, stoppingToken));
                if (Quorum(own.Primary, own.PrimaryFailures).MajoritySeesPrimaryDown)
                {
                    await decide(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (!stoppingToken.IsCancellationRequested)
            {
                // etcd down (the tick says so) or a decision that failed (the next round logs and retries it).
            }
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

    internal async Task TickAsync(CancellationToken cancellationToken)
    {
        await RenewLeaseAsync(cancellationToken);
        if (!_registered && !await RegisterAsync(cancellationToken))
        {
            return;
        }

        var group = await etcd.GetPrefixAsync(keys.Root, cancellationToken);
        state.Refresh(group.FirstOrDefault(kv => kv.Key.ToStringUtf8() == keys.State));
        _monitors = MonitorView.ReadAll(group.Where(kv => kv.Key.ToStringUtf8().StartsWith(keys.Monitors, StringComparison.Ordinal)));
        if (_monitors.All(m => m.Instance != _instance))
        {
            // Our view's key went (the lease expired while we were away): register again next tick.
            _registered = false;
        }

        var leaderKey = group.FirstOrDefault(kv => kv.Key.ToStringUtf8() == keys.Leader);
        if (leaderKey is null)
        {
            await RunForLeaderAsync(cancellationToken);
        }
        else if (leaderKey.Lease == _lease)
        {
            fence.Hold(leaderKey.CreateRevision);
            SetLeader(_name);
        }
        else
        {
            LoseLeadership($"{leaderKey.Value.ToStringUtf8()} holds the leader key");
            SetLeader(leaderKey.Value.ToStringUtf8());
        }
    }

    private async Task RenewLeaseAsync(CancellationToken cancellationToken)
    {
        var sentAt = time.GetUtcNow();
        if (_lease != 0)
        {
            var left = await etcd.KeepAliveAsync(_lease, cancellationToken);
            if (left > 0)
            {
                LeaseValidUntil(sentAt + TimeSpan.FromSeconds(left) - etcd.CallTimeout);
                return;
            }

            LoseLeadership("its lease expired (this monitor or etcd was unreachable for lease_ttl)");
            _registered = false;
        }

        _lease = await etcd.GrantLeaseAsync(_ttl, cancellationToken);
        LeaseValidUntil(sentAt + _ttl - etcd.CallTimeout);
    }

    /// <summary>Creates this monitor's key unless another running monitor holds the name; false while that is unresolved.</summary>
    private async Task<bool> RegisterAsync(CancellationToken cancellationToken)
    {
        var key = keys.Monitor(_name);
        var txn = new TxnRequest();
        txn.Compare.Add(EtcdGateway.CreateRevisionIs(key, 0));
        txn.Success.Add(EtcdGateway.Put(key, _own.ToJson(), _lease));
        txn.Failure.Add(EtcdGateway.Get(key));
        var response = await etcd.TxnAsync(txn, cancellationToken);
        if (!response.Succeeded)
        {
            var holder = response.Responses[0].ResponseRange.Kvs.FirstOrDefault() is { } kv ? MonitorView.Parse(kv.Value.Span) : null;
            if (holder is null || holder.Instance == _instance)
            {
                return false;
            }

            // A monitor restarted after kill -9 finds its previous run's key until that lease expires.
            var now = time.GetUtcNow();
            _nameTakenSince ??= now;
            var patience = _ttl + etcd.CallTimeout * 2;
            if (now - _nameTakenSince < patience)
            {
                if (_nameTakenSince == now)
                {
                    logger.NameTakenWaiting(_name, holder.Http, holder.SeenAt, Duration.Format(patience));
                }

                return false;
            }

            Refusal = $"monitor_name {_name} is used by the monitor at {holder.Http}";
            logger.NameTaken(_name, holder.Http, holder.Instance);
            return false;
        }

        _nameTakenSince = null;
        _registered = true;
        _published = _own;
        if (!_imported)
        {
            _imported = true;
            await state.ImportOnceAsync(options.Monitor.StateFile, cancellationToken);
        }

        return true;
    }

    private async Task RunForLeaderAsync(CancellationToken cancellationToken)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(EtcdGateway.CreateRevisionIs(keys.Leader, 0));
        txn.Success.Add(EtcdGateway.Put(keys.Leader, System.Text.Encoding.UTF8.GetBytes(_name), _lease));
        txn.Success.Add(EtcdGateway.Get(keys.State));
        var response = await etcd.TxnAsync(txn, cancellationToken);
        if (!response.Succeeded)
        {
            return;
        }

        // The state as of our election first, then the token: a new leader decides on what its predecessor wrote last.
        state.Refresh(response.Responses[1].ResponseRange.Kvs.FirstOrDefault());
        fence.Hold(response.Header.Revision);
        logger.BecameLeader(_name, response.Header.Revision);
        SetLeader(_name);
    }

    private void LeaseValidUntil(DateTimeOffset until) => Interlocked.Exchange(ref _leaseValidUntilTicks, until.UtcTicks);

    private void SetLeader(string leader)
    {
        if (_leader != leader && leader != _name)
        {
            logger.LeaderIs(leader);
        }

        _leader = leader;
    }

    private void LoseLeadership(string reason)
    {
        if (fence.Drop())
        {
            logger.LostLeadership(_name, reason);
        }

        if (_up != true)
        {
            _leader = null;
        }
    }

    private async Task PublishAsync(MonitorView view, CancellationToken cancellationToken)
    {
        try
        {
            var key = keys.Monitor(_name);
            var txn = new TxnRequest();
            txn.Compare.Add(EtcdGateway.LeaseIs(key, _lease));
            txn.Success.Add(EtcdGateway.Put(key, view.ToJson(), _lease));
            if ((await etcd.TxnAsync(txn, cancellationToken)).Succeeded)
            {
                _published = view;
            }
            else
            {
                _registered = false;
            }
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
            // The next tick finds etcd down and says so.
        }
    }

    private void Publish()
    {
        var cluster = options.Cluster.Name;
        metrics.IsLeader.Set(IsLeader ? 1 : 0, cluster);
        metrics.CoordinationUp.Set(Up ? 1 : 0, cluster);
        metrics.Monitors.Set(Up ? _monitors.Count : 0, cluster);
    }

    private MonitorView View(string? primary, int primaryFailures) =>
        new(_name, _instance, _http, primary, primaryFailures, primaryFailures < options.Monitor.FailureThreshold, time.GetUtcNow());
}
