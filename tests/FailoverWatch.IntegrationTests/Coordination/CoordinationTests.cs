using System.Diagnostics;
using System.Net;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;

namespace FailoverWatch.IntegrationTests.Coordination;

/// <summary>Three real monitors on a real 3-member etcd watching a real pair; every fault caused for real.</summary>
public sealed class CoordinationTests
{
    private const string Fast = "probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 3";
    private static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(MonitorGroup.LeaseTtlSeconds);

    [Fact]
    public async Task one_leader_is_elected_any_monitor_takes_a_pause_and_a_killed_leader_is_replaced_within_lease_ttl()
    {
        await using var group = await MonitorGroup.StartAsync(Fast);
        var leader = await group.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var follower = (leader + 1) % 3;

        var status = await group[follower].StatusAsync();
        Assert.Equal(MonitorGroup.Name(follower), status.GetProperty("monitor_name").GetString());
        Assert.Equal(MonitorGroup.Name(leader), status.GetProperty("leader").GetString());
        await Wait.UntilAsync(async () => (await group[follower].StatusAsync()).GetProperty("monitors").GetArrayLength() == 3, TimeSpan.FromSeconds(10), "three monitors listed");
        Assert.All((await group[follower].StatusAsync()).GetProperty("monitors").EnumerateArray(), m => Assert.True(m.GetProperty("sees_primary").GetBoolean()));
        Assert.Equal(0, await group[follower].MetricAsync("failoverwatch_is_leader{cluster=\"test\"}"));
        Assert.Equal(1, await group[follower].MetricAsync("failoverwatch_coordination_up{cluster=\"test\"}"));
        Assert.Equal(3, await group[follower].MetricAsync("failoverwatch_monitors{cluster=\"test\"}"));

        // pause through a follower: the leader carries it out, the state in etcd says so, every monitor shows it.
        var paused = await group[follower].PostAsync("pause", group.Cluster.AdminToken);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.True((await group.StateAsync()).Paused);
        await Wait.UntilAsync(async () => (await group[follower].StatusAsync()).GetProperty("paused").GetBoolean(), TimeSpan.FromSeconds(10), "the follower shows paused");
        Assert.Equal(HttpStatusCode.Unauthorized, (await group[follower].PostAsync("resume", "wrong")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await group[follower].PostAsync("resume", group.Cluster.AdminToken)).StatusCode);
        Assert.False((await group.StateAsync()).Paused);

        // A second monitor with a name already in use refuses to run and names the first.
        var port = OsUser.FreeLoopbackPort();
        var (exit, output) = await MonitorProcess.RunCliAsync("run", "--config", await group.WriteExtraConfigAsync(MonitorGroup.Name(follower), port));
        Assert.Equal(1, exit);
        Assert.Contains($"monitor_name {MonitorGroup.Name(follower)} is already used by the running monitor at http://127.0.0.1:", output, StringComparison.Ordinal);

        var clock = Stopwatch.StartNew();
        await group.KillMonitorAsync(leader);
        var next = await group.WaitForLeaderAsync(LeaseTtl * 4, notIndex: leader);
        Assert.True(clock.Elapsed < LeaseTtl + TimeSpan.FromSeconds(4), $"a new leader after {clock.Elapsed.TotalSeconds:0.0}s (lease_ttl {LeaseTtl.TotalSeconds}s)");
        Assert.Contains("is the leader now", group[next].Output, StringComparison.Ordinal);
        await group[next].WaitForMetricAtLeastAsync("failoverwatch_monitors{cluster=\"test\"}", 2, TimeSpan.FromSeconds(10), "two monitors");
        Assert.Equal(2, await group[next].MetricAsync("failoverwatch_monitors{cluster=\"test\"}"));
    }
}
