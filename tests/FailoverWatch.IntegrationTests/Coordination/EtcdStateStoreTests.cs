using Etcdserverpb;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;
using FailoverWatch.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace FailoverWatch.IntegrationTests.Coordination;

/// <summary>
/// The cluster state in a real 3-member etcd. Patroni's defect tried for real: a leader paused past its lease
/// (SIGSTOP, a VM freeze, a long GC) resumes with its old fencing token in hand and writes; here its write must
/// fail and the new leader's state stay.
/// </summary>
public sealed class EtcdStateStoreTests
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

    [Fact]
    public async Task the_compactor_compacts_real_etcd_and_takes_history_compacted_by_others_in_its_stride()
    {
        await using var cluster = await LocalEtcdCluster.StartAsync();
        using var etcd = new EtcdGateway(new EtcdOptions { Endpoints = [.. cluster.ClientUrls] }, TimeProvider.System);
        var keys = EtcdKeys.For("/failoverwatch", "compact");
        var txn = new TxnRequest();
        txn.Success.Add(EtcdGateway.Put(keys.State, [1]));
        var revision = 0L;
        for (var i = 0; i < HistoryCompactor.KeepRevisions * 2 + 1; i++)
        {
            revision = (await etcd.TxnAsync(txn, CancellationToken.None)).Header.Revision;
        }

        // etcd says OutOfRange for a revision compacted already: taken as done, not as a failure.
        await etcd.CompactAsync(revision - 10, CancellationToken.None);
        await new HistoryCompactor(etcd, NullLogger.Instance).CompactAsync(revision, CancellationToken.None);
        var again = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => etcd.CompactAsync(revision - HistoryCompactor.KeepRevisions, CancellationToken.None));
        Assert.Equal(Grpc.Core.StatusCode.OutOfRange, again.StatusCode);

        // What doctor reads to tell whether anything compacts.
        Assert.False(await etcd.RevisionReadableAsync(revision - HistoryCompactor.KeepRevisions - 1, CancellationToken.None));
        Assert.True(await etcd.RevisionReadableAsync(revision, CancellationToken.None));

        // A watch from a compacted revision says so (ErrCompacted); one from a kept revision delivers each change.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Assert.ThrowsAsync<EtcdCompactedException>(async () =>
        {
            await foreach (var unused in etcd.WatchAsync(keys.Root, revision - HistoryCompactor.KeepRevisions - 1, stop.Token))
            {
            }
        });
        await using var watch = etcd.WatchAsync(keys.Root, revision + 1, stop.Token).GetAsyncEnumerator(stop.Token);
        var next = watch.MoveNextAsync();
        var put = await etcd.TxnAsync(txn, CancellationToken.None);
        Assert.True(await next);
        Assert.Equal(put.Header.Revision, Assert.Single(watch.Current).Kv.ModRevision);

        // Renewals ride one keep-alive stream, by etcd's own count of the streams started.
        var lease = await etcd.GrantLeaseAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(10, await etcd.KeepAliveAsync(lease, CancellationToken.None));
        }

        using var http = new HttpClient();
        var started = 0.0;
        foreach (var url in cluster.ClientUrls)
        {
            started += (await http.GetStringAsync(new Uri(url + "/metrics"))).Split('\n')
                .Where(line => line.StartsWith("grpc_server_started_total{", StringComparison.Ordinal) && line.Contains("grpc_method=\"LeaseKeepAlive\"", StringComparison.Ordinal))
                .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal(1, started);
    }

    [Fact]
    public async Task an_existing_state_file_is_imported_once_when_etcd_holds_no_state()
    {
        await using var cluster = await LocalEtcdCluster.StartAsync();
        using var etcd = new EtcdGateway(new EtcdOptions { Endpoints = [.. cluster.ClientUrls] }, TimeProvider.System);
        var keys = EtcdKeys.For("/failoverwatch", "import");
        using var store = new EtcdStateStore(etcd, keys, new LeaderFence(), NullLogger<EtcdStateStore>.Instance);
        using var files = new TempDirectory();
        var record = new FailoverRecord("pg1", "pg2", DateTimeOffset.UnixEpoch, FailoverResults.Promoted, "before coordination");
        using (var first = new FailoverStateStore(files.File("first.json")))
        {
            await first.UpdateAsync(s => s with { Primary = "pg2", Paused = true, History = [record] }, CancellationToken.None);
        }

        using (var second = new FailoverStateStore(files.File("second.json")))
        {
            await second.UpdateAsync(s => s with { Primary = "pg1" }, CancellationToken.None);
        }

        await store.ImportOnceAsync(files.File("first.json"), CancellationToken.None);
        await store.ImportOnceAsync(files.File("second.json"), CancellationToken.None);

        var stored = EtcdStateStore.Parse((await etcd.GetAsync(keys.State, CancellationToken.None))!.Value.Span);
        Assert.Equal("pg2", stored.Primary);
        Assert.True(stored.Paused);
        Assert.Equal(record, Assert.Single(stored.History));
    }

    [Fact]
    public async Task an_imported_state_files_incidents_move_to_their_own_keys_at_the_first_write_and_the_group_read_leaves_them_out()
    {
        await using var cluster = await LocalEtcdCluster.StartAsync();
        using var etcd = new EtcdGateway(new EtcdOptions { Endpoints = [.. cluster.ClientUrls] }, TimeProvider.System);
        var keys = EtcdKeys.For("/failoverwatch", "incidents");
        var fence = new LeaderFence();
        using var store = new EtcdStateStore(etcd, keys, fence, NullLogger<EtcdStateStore>.Instance);
        using var files = new TempDirectory();
        var incident = new Incident
        {
            Id = "20261204T120000.000Z-failover", Kind = IncidentKinds.Failover, Decision = "Promote", Reason = "before coordination", From = "pg1", To = "pg2",
            Settings = new(3, 16 << 20, true, [new("pg1", "127.0.0.1", 5432)], TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)),
        };
        using (var file = new FailoverStateStore(files.File("state.json")))
        {
            await file.UpdateAsync(s => s with { Primary = "pg2", Incidents = [incident] }, CancellationToken.None);
        }

        // Imported as it was, incidents inside the state value: still shown.
        await store.ImportOnceAsync(files.File("state.json"), CancellationToken.None);
        Assert.Equal(incident.Id, Assert.Single(await store.IncidentsAsync(CancellationToken.None)).Id);

        fence.Hold(await ElectAsync(etcd, keys, "fw1", await etcd.GrantLeaseAsync(TimeSpan.FromSeconds(5), CancellationToken.None)));
        store.Refresh(await etcd.GetAsync(keys.State, CancellationToken.None));
        await store.UpdateAsync(s => s with { Paused = true }, CancellationToken.None);

        var stored = EtcdStateStore.Parse((await etcd.GetAsync(keys.State, CancellationToken.None))!.Value.Span);
        Assert.Equal(("pg2", true), (stored.Primary, stored.Paused));
        Assert.Empty(stored.Incidents);
        Assert.NotNull(await etcd.GetAsync(keys.Incident(incident.Id), CancellationToken.None));
        Assert.Equal(incident.Id, Assert.Single(await store.IncidentsAsync(CancellationToken.None)).Id);
        var (group, _) = await etcd.GetPrefixExceptAsync(keys.Root, keys.Incidents, CancellationToken.None);
        Assert.Equal([keys.Leader, keys.State], group.Select(kv => kv.Key.ToStringUtf8()));
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
