using System.Text.Json;
using Etcdserverpb;
using FailoverWatch.Failover;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Mvccpb;

namespace FailoverWatch.Coordination;

/// <summary>
/// The cluster state in etcd under <c>PREFIX/CLUSTER/state</c>. Every write is one transaction: "if the leader
/// key still has the create revision this monitor got when elected, put the state". A monitor that was deposed
/// (or paused, SIGSTOP, past its lease and resumed) writes nothing: its transaction fails and it stops leading.
/// Reads come from the coordination loop, which refreshes <see cref="Current"/> every tick.
/// </summary>
internal sealed class EtcdStateStore(IEtcdGateway etcd, EtcdKeys keys, LeaderFence fence, ILogger<EtcdStateStore> logger) : IClusterStateStore, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _lock = new();
    private FailoverState _current = FailoverState.Empty;
    private long _revision;

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
                _current = Parse(stored.Value.Span);
                _revision = stored.ModRevision;
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
            txn.Success.Add(EtcdGateway.Put(keys.State, Serialize(state)));
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
