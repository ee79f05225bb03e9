using FailoverWatch.Failover;
using FailoverWatch.Monitoring;
using FailoverWatch.Routing;
using FailoverWatch.State;
using static FailoverWatch.Tests.Failover.Reports;

namespace FailoverWatch.Tests.Routing;

/// <summary>The one rule for "the primary", as a table: the round's view and the recorded state, and who is named.</summary>
public sealed class ClusterPrimaryTests
{
    private static readonly FailoverInProgress Pg1ToPg2 = new("pg1", "pg2", Now.AddSeconds(-3));

    /// <summary>pg1 to pg2 to pg3, each seen writable on its timeline.</summary>
    private static readonly PrimaryTimeline[] TwoFailovers = [new("pg1", 1), new("pg2", 2), new("pg3", 3)];

    public static TheoryData<string> Situations => [.. Table.Keys];

    private static readonly Dictionary<string, (FailoverState State, NodeReport[] Reports, string? Named)> Table = new()
    {
        ["recorded and writable"] = (new() { Primary = "pg1" }, [Primary("pg1"), Standby("pg2")], "pg1"),
        ["recorded but down"] = (new() { Primary = "pg1" }, [Down("pg1"), Standby("pg2")], null),
        ["nothing recorded, one writable"] = (new(), [Standby("pg1"), Primary("pg2")], "pg2"),
        ["nothing recorded, two writable"] = (new(), [Primary("pg1"), Primary("pg2")], null),
        ["returning old primary beside the recorded one"] = (new() { Primary = "pg2" }, [Primary("pg1"), Primary("pg2", timeline: 2)], "pg2"),
        ["failover under way, old primary back writable, target not yet"] = (new() { Primary = "pg1", InProgress = Pg1ToPg2 }, [Primary("pg1"), Standby("pg2")], null),
        ["failover under way, target writable before the record"] = (new() { Primary = "pg1", InProgress = Pg1ToPg2 }, [Primary("pg1"), Primary("pg2", timeline: 2)], "pg2"),
        ["failover under way, target writable and recorded, hook running"] = (new() { Primary = "pg2", InProgress = Pg1ToPg2 }, [Down("pg1"), Primary("pg2", timeline: 2)], "pg2"),
        ["failover abandoned: the old primary answers again"] = (new() { Primary = "pg1" }, [Primary("pg1"), Standby("pg2")], "pg1"),
        ["A->B->C, C down, A back on its old timeline"] = (new() { Primary = "pg3", Timelines = TwoFailovers }, [Primary("pg1", timeline: 1), Standby("pg2"), Down("pg3")], null),
        ["A->B->C, no record of C yet, A back"] = (new() { Timelines = TwoFailovers }, [Primary("pg1", timeline: 1), Standby("pg2"), Down("pg3")], null),
        ["A->B->C, C writable on its timeline"] = (new() { Primary = "pg3", Timelines = TwoFailovers }, [Standby("pg1"), Standby("pg2"), Primary("pg3", timeline: 3)], "pg3"),
        ["a fork on the recorded primary's timeline number"] = (new() { Timelines = TwoFailovers }, [Standby("pg1"), Primary("pg2", timeline: 3), Down("pg3")], null),
        ["a later timeline descends"] = (new() { Timelines = TwoFailovers }, [Standby("pg1"), Primary("pg2", timeline: 4), Down("pg3")], "pg2"),
    };

    [Theory]
    [MemberData(nameof(Situations))]
    public void names_the_primary(string situation)
    {
        var (state, reports, named) = Table[situation];
        Assert.Equal(named, ClusterPrimary.Name(View(state.Primary, 1000, reports), state));
    }

    [Fact]
    public void a_node_a_failover_moves_away_from_is_never_200_on_primary()
    {
        var state = new FailoverState { Primary = "pg1", InProgress = Pg1ToPg2 };
        var view = View("pg1", 1000, Primary("pg1"), Standby("pg2"));
        Assert.Equal(503, RoutingCheck.Primary("pg1", ["pg1", "pg2"], view, state).StatusCode);
    }

    [Fact]
    public void a_primary_is_recorded_with_its_timeline_once_and_only_while_writable_and_recorded()
    {
        var state = new FailoverState { Primary = "pg2", Timelines = [new("pg1", 1)] };
        var seen = PrimaryLineage.Record(state, View("pg2", null, Primary("pg2", timeline: 2)).Find("pg2"));
        Assert.Equal([new("pg1", 1), new PrimaryTimeline("pg2", 2)], seen.Timelines);
        Assert.Same(seen, PrimaryLineage.Record(seen, View("pg2", null, Primary("pg2", timeline: 2)).Find("pg2")));
        Assert.Same(state, PrimaryLineage.Record(state, View("pg2", null, Down("pg2")).Find("pg2")));
        Assert.Same(state, PrimaryLineage.Record(state, View("pg2", null, Primary("pg1")).Find("pg1")));
    }
}
