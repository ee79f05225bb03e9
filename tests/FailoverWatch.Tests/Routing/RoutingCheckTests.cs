using FailoverWatch.Routing;
using FailoverWatch.State;
using static FailoverWatch.Tests.Failover.Reports;

namespace FailoverWatch.Tests.Routing;

public sealed class RoutingCheckTests
{
    private static readonly string[] Nodes = ["pg1", "pg2"];
    private static readonly FailoverState RecordedPg2 = new() { Primary = "pg2" };

    [Fact]
    public void primary_check_passes_only_for_the_recorded_writable_primary()
    {
        var view = View("pg1", null, Primary("pg1"), Standby("pg2", streaming: true));
        var state = new FailoverState { Primary = "pg1" };
        Assert.Equal(200, RoutingCheck.Primary("pg1", Nodes, view, state).StatusCode);
        Assert.Equal(503, RoutingCheck.Primary("pg2", Nodes, view, state).StatusCode);
    }

    [Fact]
    public void a_returning_old_primary_is_never_the_primary_even_when_writable()
    {
        // After a failover to pg2, pg1 comes back writable: two writable nodes, only the recorded one passes.
        var view = View("pg2", null, Primary("pg1", timeline: 1), Primary("pg2", timeline: 2));
        Assert.Equal(503, RoutingCheck.Primary("pg1", Nodes, view, RecordedPg2).StatusCode);
        Assert.Equal(200, RoutingCheck.Primary("pg2", Nodes, view, RecordedPg2).StatusCode);

        // And with pg2 down, pg1 being writable still does not make it the primary.
        var pg2Down = View("pg2", null, Primary("pg1"), Down("pg2"));
        Assert.Equal(503, RoutingCheck.Primary("pg1", Nodes, pg2Down, RecordedPg2).StatusCode);
    }

    [Fact]
    public void a_promotion_confirmed_after_the_last_round_passes_before_the_next_round_shows_it()
    {
        var view = View("pg1", 1000, Down("pg1"), Standby("pg2"));
        var promoted = RecordedPg2 with { History = [new FailoverRecord("pg1", "pg2", Now.AddMilliseconds(300), FailoverResults.Promoted, "test")] };
        Assert.Equal(200, RoutingCheck.Primary("pg2", Nodes, view, promoted).StatusCode);

        // A promotion older than the round is judged by the round.
        var old = RecordedPg2 with { History = [new FailoverRecord("pg1", "pg2", Now.AddMinutes(-5), FailoverResults.Promoted, "test")] };
        Assert.Equal(503, RoutingCheck.Primary("pg2", Nodes, view, old).StatusCode);
    }

    [Fact]
    public void without_a_round_or_record_nothing_is_primary()
    {
        Assert.Equal(503, RoutingCheck.Primary("pg1", Nodes, null, FailoverState.Empty).StatusCode);
    }

    [Fact]
    public void unknown_nodes_are_404()
    {
        Assert.Equal(404, RoutingCheck.Primary("pg9", Nodes, null, RecordedPg2).StatusCode);
        Assert.Equal(404, RoutingCheck.Replica("pg9", null, Nodes, null).StatusCode);
    }

    [Theory]
    [InlineData(null, 200)]
    [InlineData("16MB", 200)]
    [InlineData("1kB", 503)]
    [InlineData("lots", 400)]
    public void replica_check_passes_for_a_streaming_standby_within_the_lag(string? maxLag, int expected)
    {
        var view = View("pg1", null, Primary("pg1", lsn: 10_000), Standby("pg2", received: 10_000, replayed: 5_000, streaming: true));
        Assert.Equal(expected, RoutingCheck.Replica("pg2", maxLag, Nodes, view).StatusCode);
    }

    [Fact]
    public void replica_check_fails_for_the_primary_a_down_node_and_a_standby_not_streaming()
    {
        var view = View("pg1", null, Primary("pg1"), Standby("pg2", streaming: false));
        Assert.Equal(503, RoutingCheck.Replica("pg1", null, Nodes, view).StatusCode);
        Assert.Equal(503, RoutingCheck.Replica("pg2", null, Nodes, view).StatusCode);
        Assert.Equal(503, RoutingCheck.Replica("pg2", null, Nodes, View("pg1", null, Primary("pg1"), Down("pg2"))).StatusCode);
    }
}
