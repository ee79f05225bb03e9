using Etcdserverpb;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;
using Microsoft.Extensions.Logging.Abstractions;

namespace FailoverWatch.IntegrationTests.Coordination;

/// <summary>
/// Patroni's defect, tried on a real 3-member etcd: a leader paused past its lease (SIGSTOP, a VM freeze, a long GC)
/// resumes with its old fencing token in hand and writes. Here its write must fail and the new leader's state stay.
/// </summary>
public sealed class FencedStateWriteTests
{
    [Fact]
    public async Task a_resumed_stale_leader_cannot_write_the_state()
    {
        await using var cluster = await LocalEtcdCluster.StartAsync();
        using var etcd = new EtcdGateway(new EtcdOptions { Endpoints = [.. cluster.ClientUrls], LeaseTtl = TimeSpan.FromSeconds(2) }, TimeProvider.System);
        var keys = EtcdKeys.For("/failoverwatch", "stale");
        var oldFence = new LeaderFence();
        using var oldStore = new EtcdStateStore(etcd, keys, oldFence, NullLogger<EtcdStateStore>.Instance);
        var newFence = new LeaderFence();
        using var newStore = new EtcdStateStore(etcd, keys, newFence, NullLogger<EtcdStateStore>.Instance);

        // The old leader is elected and writes.
        oldFence.Hold(await ElectAsync(etcd, keys, "fw1", await etcd.GrantLeaseAsync(TimeSpan.FromSeconds(2), CancellationToken.None)));
        await oldStore.UpdateAsync(s => s with { Primary = "pg1" }, CancellationToken.None);

        // It stops renewing (paused); its lease expires, the leader key goes, another monitor is elected and writes.
        await Wait.UntilAsync(async () => await etcd.GetAsync(keys.Leader, CancellationToken.None) is null, TimeSpan.FromSeconds(15), "the old leader's key expired");
        newFence.Hold(await ElectAsync(etcd, keys, "fw2", await etcd.GrantLeaseAsync(TimeSpan.FromSeconds(2), CancellationToken.None)));
        newStore.Refresh(await etcd.GetAsync(keys.State, CancellationToken.None));
        await newStore.UpdateAsync(s => s with { Primary = "pg2" }, CancellationToken.None);

        // The old one resumes, token still in hand, and tries to put its primary back.
        var refused = await Assert.ThrowsAsync<EtcdStateWriteException>(() => oldStore.UpdateAsync(s => s with { Primary = "pg1", Paused = true }, CancellationToken.None));
        Assert.Contains("another monitor was elected since", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, oldFence.Token);
        var stored = EtcdStateStore.Parse((await etcd.GetAsync(keys.State, CancellationToken.None))!.Value.Span);
        Assert.Equal("pg2", stored.Primary);
        Assert.False(stored.Paused);

        // Without a token it does not even try.
        await Assert.ThrowsAsync<EtcdStateWriteException>(() => oldStore.UpdateAsync(s => s with { Paused = true }, CancellationToken.None));
    }

    private static async Task<long> ElectAsync(EtcdGateway etcd, EtcdKeys keys, string name, long lease)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(EtcdGateway.CreateRevisionIs(keys.Leader, 0));
        txn.Success.Add(EtcdGateway.Put(keys.Leader, System.Text.Encoding.UTF8.GetBytes(name), lease));
        var response = await etcd.TxnAsync(txn, CancellationToken.None);
        Assert.True(response.Succeeded);
        return response.Header.Revision;
    }
}
