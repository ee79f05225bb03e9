using dotnet_etcd;
using Etcdserverpb;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.LocalServers;
using Grpc.Core;

namespace FailoverWatch.IntegrationTests.Coordination;

/// <summary><c>doctor</c>'s etcd check against a real etcd: the size a member reports, and a NOSPACE alarm raised for real (every write refused).</summary>
public sealed class EtcdSpaceCheckTests
{
    [Fact]
    public async Task a_real_etcd_reports_its_size_and_a_raised_nospace_alarm_is_found()
    {
        await using var cluster = await LocalEtcdCluster.StartAsync();
        using var etcd = new EtcdGateway(new EtcdOptions { Endpoints = [.. cluster.ClientUrls] }, TimeProvider.System);

        var (problems, warning, size) = await EtcdSpaceCheck.CheckAsync(etcd, CancellationToken.None);
        Assert.Empty(problems);
        Assert.Null(warning);
        Assert.StartsWith("database ", size, StringComparison.Ordinal);
        Assert.True((await etcd.StatusAsync(CancellationToken.None)).DbSize > 0);

        // What etcd raises itself at its quota; from then on it refuses every write.
        using var client = new EtcdClient(string.Join(",", cluster.ClientUrls));
        var member = (await etcd.StatusAsync(CancellationToken.None)).Header.MemberId;
        await client.GetConnection().MaintenanceClient.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Activate, MemberID = member, Alarm = AlarmType.Nospace });
        var txn = new TxnRequest();
        txn.Success.Add(EtcdGateway.Put("/failoverwatch/space/state", [1]));
        var refused = await Assert.ThrowsAsync<RpcException>(() => etcd.TxnAsync(txn, CancellationToken.None));
        Assert.Contains("space exceeded", refused.Status.Detail, StringComparison.Ordinal);

        (problems, _, _) = await EtcdSpaceCheck.CheckAsync(etcd, CancellationToken.None);
        Assert.StartsWith("etcd: NOSPACE alarm raised", Assert.Single(problems), StringComparison.Ordinal);
    }
}
