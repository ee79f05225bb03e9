using Etcdserverpb;
using Microsoft.Extensions.Logging;
using Mvccpb;

namespace FailoverWatch.Coordination;

/// <summary>
/// Who leads: the monitor whose lease holds <c>PREFIX/CLUSTER/leader</c>. This monitor leads while it holds the
/// fencing token (the key's create revision) and its lease is surely alive by its monotonic clock.
/// </summary>
internal sealed class LeaderElection(IEtcdGateway etcd, EtcdKeys keys, LeaderFence fence, EtcdStateStore state, MonitorLease lease, string name, ILogger logger)
{
    private volatile string? _leader;

    /// <summary>Run when this monitor is elected and finds a switchover under way (<see cref="IMonitorLeadership.OnSwitchoverFound"/>).</summary>
    public Func<SwitchoverRecord, CancellationToken, Task>? Resume { get; set; }

    /// <summary>The last resumed switchover (completed when none), for tests.</summary>
    internal Task Resuming { get; private set; } = Task.CompletedTask;

    public bool IsLeader => fence.Token != 0 && lease.Valid;

    /// <summary>The leader as last read from etcd; null while etcd does not answer.</summary>
    public string? Leader => _leader;

    /// <summary>Each tick, with the leader key as read: runs for leader when it is free, else follows whoever holds it.</summary>
    public async Task FollowAsync(KeyValue? leaderKey, CancellationToken cancellationToken)
    {
        if (leaderKey is null)
        {
            await RunAsync(cancellationToken);
        }
        else
        {
            Hold(leaderKey, switchover: null, cancellationToken);
        }
    }

    public void Lose(string reason)
    {
        if (fence.Drop())
        {
            logger.LostLeadership(name, reason);
        }
    }

    /// <summary>etcd does not answer: nobody is known to lead.</summary>
    public void Forget(string reason)
    {
        Lose(reason);
        _leader = null;
    }

    /// <summary>A create-only transaction with this monitor's lease, which reads the state as of the election.</summary>
    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(EtcdGateway.CreateRevisionIs(keys.Leader, 0));
        txn.Success.Add(EtcdGateway.Put(keys.Leader, System.Text.Encoding.UTF8.GetBytes(name), lease.Id));
        txn.Success.Add(EtcdGateway.Get(keys.State));
        txn.Success.Add(EtcdGateway.Get(keys.Switchover));
        txn.Failure.Add(EtcdGateway.Get(keys.Leader));
        txn.Failure.Add(EtcdGateway.Get(keys.State));
        txn.Failure.Add(EtcdGateway.Get(keys.Switchover));
        var response = await etcd.TxnAsync(txn, cancellationToken);

        // The state as of our election first, then the token: a new leader decides on what its predecessor wrote last.
        state.Refresh(response.Responses[1].ResponseRange.Kvs.FirstOrDefault());
        var switchover = response.Responses[2].ResponseRange.Kvs.FirstOrDefault();
        if (response.Succeeded)
        {
            Lead(response.Header.Revision, switchover, cancellationToken);
        }
        else if (response.Responses[0].ResponseRange.Kvs.FirstOrDefault() is { } holder)
        {
            // Perhaps our own key, committed by a first attempt whose answer was lost: held all the same.
            Hold(holder, switchover, cancellationToken);
        }
    }

    /// <summary>A switchover found is resumed before the token is held, so its first step (taking the decision lock) precedes any round's decision.</summary>
    private void Lead(long token, KeyValue? switchover, CancellationToken cancellationToken)
    {
        if (Resume is { } resume && switchover is not null && SwitchoverRecord.Parse(switchover.Value.Span) is { } record)
        {
            Resuming = resume(record, cancellationToken);
        }

        fence.Hold(token);
        logger.BecameLeader(name, token);
        _leader = name;
    }

    private void Hold(KeyValue leaderKey, KeyValue? switchover, CancellationToken cancellationToken)
    {
        var holder = leaderKey.Value.ToStringUtf8();
        if (leaderKey.Lease == lease.Id && lease.Id != 0)
        {
            if (fence.Token != leaderKey.CreateRevision)
            {
                Lead(leaderKey.CreateRevision, switchover, cancellationToken);
            }

            _leader = name;
            return;
        }

        Lose($"{holder} holds the leader key");
        if (_leader != holder)
        {
            logger.LeaderIs(holder);
        }

        _leader = holder;
    }
}
