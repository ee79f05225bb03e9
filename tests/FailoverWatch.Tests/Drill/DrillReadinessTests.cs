using FailoverWatch.Drill;

namespace FailoverWatch.Tests.Drill;

/// <summary>When the drill may start, and which refusals are worth waiting out (lag) rather than said at once (a node down).</summary>
public sealed class DrillReadinessTests
{
    private static readonly NodeSnapshot Pg1 = new("pg1", false, null, null);
    private static readonly NodeSnapshot Pg2Streaming = new("pg2", true, 0, 0);
    private static readonly IReadOnlyDictionary<string, bool> Pg2Ready = new Dictionary<string, bool> { ["pg2"] = true };

    [Fact]
    public void starts_with_the_ready_standby_when_every_standby_streams_with_lag_0()
    {
        Assert.Null(DrillRunner.NotReady(Status("pg1", Pg2Streaming, Pg2Ready), out var target));
        Assert.Equal("pg2", target);
    }

    private static readonly Dictionary<string, (ClusterSnapshot Status, string Expected, bool WorthWaiting)> NotReadyClusters = new()
    {
        ["no primary"] = (Status(null, Pg2Streaming, Pg2Ready), "the host knows no primary", false),
        ["a failing check"] = (Status("pg1", Pg2Streaming, Pg2Ready, ["pg2: cannot connect"]), "the doctor's checks fail: pg2: cannot connect", false),
        ["no readiness check yet"] = (Status("pg1", Pg2Streaming, Pg2Ready, [ClusterSnapshot.NoReadinessYet]), "the doctor's checks fail: " + ClusterSnapshot.NoReadinessYet, true),
        ["replay lag"] = (Status("pg1", new("pg2", true, 8192, 0), Pg2Ready), "pg2 is not a standby streaming with lag 0", true),
        ["receive lag"] = (Status("pg1", new("pg2", true, 0, 8192), Pg2Ready), "pg2 is not a standby streaming with lag 0", true),
        ["not streaming"] = (Status("pg1", new("pg2", false, 0, 0), Pg2Ready), "pg2 is not a standby streaming with lag 0", false),
        ["standby down"] = (Status("pg1", new("pg2", false, null, null), new Dictionary<string, bool> { ["pg2"] = false }), "pg2 is not a standby streaming with lag 0", false),
        ["a failing check on every standby"] = (Status("pg1", Pg2Streaming, new Dictionary<string, bool> { ["pg2"] = false }, ["cluster: no standby is ready to be promoted"]), "the doctor's checks fail: cluster: no standby is ready to be promoted", false),

        // A check from before pg2 streamed says no more; the host checks again after such a change within a round.
        ["a readiness check from before"] = (Status("pg1", Pg2Streaming, new Dictionary<string, bool> { ["pg2"] = false }), "no standby is ready for a switchover", true),
        ["paused"] = (Status("pg1", Pg2Streaming, Pg2Ready) with { Paused = true }, "the host is paused, and a paused host rejoins no old primary (failoverwatch resume first)", false),
    };

    public static TheoryData<string> Cases => [.. NotReadyClusters.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void refuses_a_cluster_that_is_not_ready_and_waits_only_for_what_passes_by_itself(string situation)
    {
        var (status, expected, worthWaiting) = NotReadyClusters[situation];
        Assert.Equal(expected, DrillRunner.NotReady(status, out var target));
        Assert.Null(target);
        Assert.Equal(worthWaiting, DrillRunner.PassesByItself(status));
    }

    internal static ClusterSnapshot Status(string? primary, NodeSnapshot pg2, IReadOnlyDictionary<string, bool> ready, IReadOnlyList<string>? problems = null) =>
        new(primary, [Pg1, pg2], ready, problems ?? [], Paused: false);
}
