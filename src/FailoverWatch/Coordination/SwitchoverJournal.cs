using Etcdserverpb;
using Grpc.Core;

namespace FailoverWatch.Coordination;

/// <summary>Writes <see cref="SwitchoverRecord"/>s: fenced by the leader's token like the state, each under a lease that ends it.</summary>
internal sealed class SwitchoverJournal(IEtcdGateway etcd, EtcdKeys keys, LeaderFence fence)
{
    /// <summary>Throws <see cref="EtcdStateWriteException"/> when it did not land: the switchover must not go on.</summary>
    public async Task WriteAsync(SwitchoverRecord? record, CancellationToken cancellationToken)
    {
        var token = fence.Token;
        if (token == 0)
        {
            throw new EtcdStateWriteException("not recorded in etcd: this monitor is not the leader");
        }

        try
        {
            var txn = new TxnRequest();
            txn.Compare.Add(EtcdGateway.CreateRevisionIs(keys.Leader, token));
            txn.Success.Add(record is null
                ? EtcdGateway.Delete(keys.Switchover)
                : EtcdGateway.Put(keys.Switchover, record.ToJson(), await etcd.GrantLeaseAsync(SwitchoverRecord.Lifetime, cancellationToken)));
            if (!(await etcd.TxnAsync(txn, cancellationToken)).Succeeded)
            {
                fence.Drop();
                throw new EtcdStateWriteException($"not recorded in etcd: the leader key no longer has revision {token}");
            }
        }
        catch (RpcException e)
        {
            throw new EtcdStateWriteException($"not recorded in etcd: {e.Status.Detail}", e);
        }
    }
}
