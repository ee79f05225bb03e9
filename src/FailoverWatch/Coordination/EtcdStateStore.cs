using System.Text.Json;
using Etcdserverpb;
using FailoverWatch.State;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Mvccpb;

namespace FailoverWatch.Coordination;

/// <summary>
/// The cluster state in etcd under <c>PREFIX/CLUSTER/state</c>. Every write is one transaction: "if the leader
/// key still has the create revision this monitor got when elected, put the state". A monitor that was deposed
/// (or paused, SIGSTOP, past its lease and resumed) writes nothing: its transaction fails and it stops leading.
/// Reads come from the coordination loop, which refreshes <see cref="Current"/> as its watch brings each change. Incidents go in their
/// own keys in the same transaction (<see cref="EtcdIncidents"/>), read back before the first write after another
/// monitor wrote, so the cap holds whoever wrote last.
/// </summary>
internal sealed class EtcdStateStore(IEtcdGateway etcd, EtcdKeys keys, LeaderFence fence, ILogger<EtcdStateStore> logger) : IClusterStateStore, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _lock = new();
    private FailoverState _current = FailoverState.Empty;
    private long _revision;
    private IReadOnlyDictionary<string, Incident> _written = new Dictionary<string, Incident>();
    private IReadOnlyList<Incident> _inStateValue = [];
    private bool _incidentsStale = true;

    public FailoverState Current
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>Takes the state as read from etcd, unless this monitor already holds a newer one.</summary>
    public void Refresh(KeyValue? stored)
    {
        if (stored is null)
        {
            return;
        }

        lock (_lock)
        {
            if (stored.ModRevision > _revision)
            {
                // Another monitor wrote: its incidents are read before this one writes any.
                var parsed = Parse(stored.Value.Span);
                _inStateValue = parsed.Incidents;
                _current = parsed with { Incidents = parsed.Incidents.Count > 0 ? parsed.Incidents : _current.Incidents };
                _revision = stored.ModRevision;
                _incidentsStale = true;
            }
        }
    }

    public static FailoverState Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, FailoverStateJsonContext.Default.FailoverState) ?? FailoverState.Empty;

    public static byte[] Serialize(FailoverState state) => JsonSerializer.SerializeToUtf8Bytes(state, FailoverStateJsonContext.Default.FailoverState);

    public async Task<FailoverState> UpdateAsync(Func<FailoverState, FailoverState> change, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_incidentsStale)
            {
                await LoadIncidentsAsync(cancellationToken);
            }

            var next = FailoverStateStore.Bounded(change(Current));
            if (next == Current)
            {
                return next;
            }

            var revision = await WriteAsync(next, fence.Token, cancellationToken);
            lock (_lock)
            {
                _current = next;
                _revision = Math.Max(_revision, revision);
                _written = next.Incidents.TakeLast(Incident.Kept).ToDictionary(i => i.Id);
                _inStateValue = [];
            }

            return next;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The guarded write itself; the revision it landed at. Throws <see cref="EtcdStateWriteException"/> when it did not land.</summary>
    internal async Task<long> WriteAsync(FailoverState state, long token, CancellationToken cancellationToken)
    {
        if (token == 0)
        {
            throw Refused("this monitor is not the leader");
        }

        TxnResponse response;
        try
        {
            var txn = new TxnRequest();
            txn.Compare.Add(EtcdGateway.CreateRevisionIs(keys.Leader, token));
            txn.Success.Add(EtcdGateway.Put(keys.State, Serialize(state with { Incidents = [] })));
            txn.Success.AddRange(EtcdIncidents.Changes(_written, state.Incidents, keys));
            response = await etcd.TxnAsync(txn, cancellationToken);
        }
        catch (RpcException e)
        {
            throw new EtcdStateWriteException($"etcd did not take the state write: {e.Status.Detail}", e);
        }

        if (!response.Succeeded)
        {
            fence.Drop();
            throw Refused($"the leader key no longer has revision {token}: another monitor was elected since");
        }

        return response.Header.Revision;
    }

    private async Task LoadIncidentsAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<KeyValue> stored;
        try
        {
            stored = await etcd.GetPrefixAsync(keys.Incidents, cancellationToken);
        }
        catch (RpcException e)
        {
            throw new EtcdStateWriteException($"etcd did not give the incidents to write after: {e.Status.Detail}", e);
        }

        lock (_lock)
        {
            // Every key, even past the cap, so the next write deletes what is too many.
            var written = EtcdIncidents.Parse(stored).ToList();
            _current = _current with { Incidents = EtcdIncidents.Merge(written, _inStateValue) };
            _written = written.ToDictionary(i => i.Id);
            _incidentsStale = false;
        }
    }

    public Task<IReadOnlyList<Incident>> IncidentsAsync(CancellationToken cancellationToken) => EtcdIncidents.ReadAsync(etcd, keys, cancellationToken);

    /// <summary>The state file becomes etcd's state when etcd holds none yet (a create-only transaction): moving to several monitors keeps the record.</summary>
    public async Task ImportOnceAsync(string stateFile, CancellationToken cancellationToken)
    {
        if (!File.Exists(stateFile))
        {
            return;
        }

        var local = FailoverStateStore.Load(stateFile);
        var txn = new TxnRequest();
        txn.Compare.Add(EtcdGateway.CreateRevisionIs(keys.State, 0));
        txn.Success.Add(EtcdGateway.Put(keys.State, Serialize(local)));
        if ((await etcd.TxnAsync(txn, cancellationToken)).Succeeded)
        {
            logger.StateImported(stateFile, local.Primary);
        }
    }

    public void Dispose() => _gate.Dispose();

    private EtcdStateWriteException Refused(string reason)
    {
        logger.StateWriteRefused(reason);
        return new EtcdStateWriteException("not written to etcd: " + reason);
    }
}

/// <summary>A state write that did not land in etcd (no quorum, or this monitor no longer leads).</summary>
internal sealed class EtcdStateWriteException(string message, Exception? inner = null) : IOException(message, inner);
