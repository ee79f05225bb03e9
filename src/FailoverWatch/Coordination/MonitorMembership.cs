using Etcdserverpb;
using FailoverWatch.Configuration;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Mvccpb;

namespace FailoverWatch.Coordination;

/// <summary>
/// This monitor's key <c>monitors/NAME</c>, under its lease, holding its latest view. Whether it is registered is
/// read from etcd with the group (<see cref="Confirm"/>), never remembered: a monitor whose lease lives is registered
/// again whatever went wrong. A transaction may be sent twice (<see cref="IEtcdGateway.TxnAsync"/>), so a
/// failed compare that finds this instance's own key under this lease is a success.
/// </summary>
internal sealed class MonitorMembership(
    IEtcdGateway etcd,
    EtcdKeys keys,
    MonitorLease lease,
    string name,
    string instance,
    TimeSpan republishEvery,
    TimeProvider time,
    ILogger logger)
{
    private readonly string _key = keys.Monitor(name);
    private readonly Lock _lock = new();
    private long _registeredUnder;
    private long? _nameTakenSince;
    private MonitorView? _own;
    private MonitorView? _published;
    private long _publishedAt;
    private bool _publishing;

    /// <summary>Set when another running monitor holds this name: the host stops and exits non-zero.</summary>
    public string? Refusal { get; private set; }

    public bool Registered => Interlocked.Read(ref _registeredUnder) is var under and not 0 && under == lease.Id;

    /// <summary>Publishes are sent one at a time; the loop that sends them (completed when none is under way), for tests and stop.</summary>
    internal Task Publishing { get; private set; } = Task.CompletedTask;

    /// <summary>Whether the key as read from etcd is this instance's, under its current lease.</summary>
    public void Confirm(KeyValue? stored) => Interlocked.Exchange(ref _registeredUnder, IsMine(stored) ? lease.Id : 0);

    /// <summary>Creates the key (or moves this instance's own key to the current lease); false while another monitor holds the name.</summary>
    public async Task<bool> RegisterAsync(MonitorView view, CancellationToken cancellationToken)
    {
        var current = lease.Id;
        var response = await etcd.TxnAsync(PutIf(EtcdGateway.CreateRevisionIs(_key, 0), view, current), cancellationToken);
        var stored = Stored(response);
        if (!response.Succeeded && !IsMine(stored) && Holder(stored)?.Instance == instance)
        {
            // Its own key under a lease that is lost or going (etcd revoked it, or it was replaced): moved to this one.
            response = await etcd.TxnAsync(PutIf(EtcdGateway.ModRevisionIs(_key, stored!.ModRevision), view, current), cancellationToken);
            stored = Stored(response);
        }

        if (response.Succeeded || IsMine(stored))
        {
            _nameTakenSince = null;
            Interlocked.Exchange(ref _registeredUnder, current);
            lock (_lock)
            {
                _published = view;
                _publishedAt = time.GetTimestamp();
            }

            return true;
        }

        if (Holder(stored) is { } other && other.Instance != instance)
        {
            NameTaken(other);
        }

        return false;
    }

    /// <summary>After each probe round: publishes the view when it changed or is getting old, without waiting for etcd; never drops the latest.</summary>
    public void Observe(MonitorView view, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _own = view;
            if (_publishing || !Registered || !Due(view))
            {
                return;
            }

            _publishing = true;
        }

        Publishing = PublishLatestAsync(cancellationToken);
    }

    private static TxnRequest PutIf(Compare compare, MonitorView view, long lease)
    {
        var key = compare.Key.ToStringUtf8();
        var txn = new TxnRequest();
        txn.Compare.Add(compare);
        txn.Success.Add(EtcdGateway.Put(key, view.ToJson(), lease));
        txn.Failure.Add(EtcdGateway.Get(key));
        return txn;
    }

    private static KeyValue? Stored(TxnResponse response) =>
        response.Succeeded ? null : response.Responses[0].ResponseRange.Kvs.FirstOrDefault();

    private static MonitorView? Holder(KeyValue? stored) => stored is null ? null : MonitorView.Parse(stored.Value.Span);

    private bool IsMine(KeyValue? stored) => stored?.Lease == lease.Id && lease.Id != 0 && Holder(stored)?.Instance == instance;

    /// <summary>Views go out when they change, and unchanged every <c>republishEvery</c> so the leader sees this monitor alive.</summary>
    private bool Due(MonitorView view) =>
        _published is null || view with { SeenAt = default } != _published with { SeenAt = default } || time.GetElapsedTime(_publishedAt) >= republishEvery;

    /// <summary>One write at a time; a view observed meanwhile goes out as soon as the write in flight is done.</summary>
    private async Task PublishLatestAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            MonitorView view;
            lock (_lock)
            {
                view = _own!;
            }

            var published = await PublishAsync(view, cancellationToken);
            lock (_lock)
            {
                if (!published || !Registered || !Due(_own!))
                {
                    _publishing = false;
                    return;
                }
            }
        }
    }

    private async Task<bool> PublishAsync(MonitorView view, CancellationToken cancellationToken)
    {
        try
        {
            var current = lease.Id;
            var response = await etcd.TxnAsync(PutIf(EtcdGateway.LeaseIs(_key, current), view, current), cancellationToken);
            if (response.Succeeded || IsMine(Stored(response)))
            {
                lock (_lock)
                {
                    _published = view;
                    _publishedAt = time.GetTimestamp();
                }

                return true;
            }

            // Not under this lease any more (the lease was lost and replaced): the next tick registers again.
            Interlocked.Exchange(ref _registeredUnder, 0);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
            // The next tick finds etcd down and says so; the view goes out with the next round.
        }

        return false;
    }

    private void NameTaken(MonitorView holder)
    {
        // A monitor restarted after kill -9 finds its previous run's key until that lease expires.
        var patience = lease.Ttl + etcd.CallTimeout * 2;
        var now = time.GetTimestamp();
        _nameTakenSince ??= now;
        if (time.GetElapsedTime(_nameTakenSince.Value) < patience)
        {
            if (_nameTakenSince == now)
            {
                logger.NameTakenWaiting(name, holder.Http, holder.SeenAt, Duration.Format(patience));
            }

            return;
        }

        Refusal = $"monitor_name {name} is used by the monitor at {holder.Http}";
        logger.NameTaken(name, holder.Http, holder.Instance);
    }
}
