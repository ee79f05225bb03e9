using System.Text.Json;
using Etcdserverpb;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Coordination;

/// <summary>
/// The last check before an action on a server (pg_promote, a fence, stop or hook command): a transaction that
/// records the action under <c>PREFIX/CLUSTER/action</c> only if the leader key still has this monitor's fencing
/// token, after which the lease must still be valid by the monotonic clock (which ends it one call timeout before etcd
/// can). A leader deposed before the action learns it here and does nothing; what remains is a pause longer than
/// that margin between this check and the action's first byte (README, "What a stale leader can still do").
/// </summary>
internal sealed class ActionGuard(IEtcdGateway etcd, EtcdKeys keys, LeaderFence fence, MonitorLease lease, string monitor, TimeProvider time, ILogger logger)
{
    /// <returns>The fencing token the action runs under; null when this monitor may not act (not the leader, or etcd does not say so).</returns>
    public async Task<long?> GuardAsync(string action, string node, CancellationToken cancellationToken)
    {
        var token = fence.Token;
        if (token == 0 || !lease.Valid)
        {
            logger.ActionRefused(action, node, "this monitor is not the leader");
            return null;
        }

        var record = new ActionRecord(action, node, monitor, token, time.GetUtcNow());
        var txn = new TxnRequest();
        txn.Compare.Add(EtcdGateway.CreateRevisionIs(keys.Leader, token));
        txn.Success.Add(EtcdGateway.Put(keys.Action, JsonSerializer.SerializeToUtf8Bytes(record, CoordinationJson.Default.ActionRecord)));
        try
        {
            if (!(await etcd.TxnAsync(txn, cancellationToken)).Succeeded)
            {
                fence.Drop();
                logger.ActionRefused(action, node, $"the leader key no longer has revision {token}: another monitor was elected");
                return null;
            }
        }
        catch (RpcException e)
        {
            logger.ActionRefused(action, node, $"etcd did not confirm the leadership: {e.Status.Detail}");
            return null;
        }

        // The write may have taken long enough for the lease to run out by this monitor's clock (which ends it one
        // call timeout before etcd can): then another monitor may be elected while this one acts.
        if (!lease.Valid)
        {
            logger.ActionRefused(action, node, "its lease may have run out while etcd confirmed it");
            return null;
        }

        return token;
    }
}

/// <summary>The last guarded action, as recorded in etcd: what, on which node, by whom, under which token, when.</summary>
internal sealed record ActionRecord(string Action, string Node, string Monitor, long Token, DateTimeOffset At);
