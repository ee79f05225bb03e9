using FailoverWatch.Rejoin;

namespace FailoverWatch.Tests.Rejoin;

public sealed class WrongUpstreamTests
{
    private static readonly Dictionary<string, IReadOnlyCollection<string>> Pg2StreamsToPg3 = new() { ["pg2"] = ["pg3"], ["pg3"] = [] };

    [Fact]
    public void a_standby_the_primary_streams_to_is_left_alone_even_if_another_node_lists_the_same_name()
    {
        Assert.Empty(WrongUpstream.Find(["pg3"], ["pg2", "PG3"], Pg2StreamsToPg3));
    }

    [Fact]
    public void a_standby_absent_from_the_primary_and_streaming_from_another_node_is_named_with_that_node()
    {
        Assert.Equal([("pg3", "pg2")], WrongUpstream.Find(["pg3"], ["pg2"], Pg2StreamsToPg3));
    }

    [Fact]
    public void without_positive_evidence_nothing_is_touched()
    {
        // Its application_name is not its node name, or its upstream is outside the cluster: only doctor can say which.
        Assert.Empty(WrongUpstream.Find(["pg3"], ["pg2"], new Dictionary<string, IReadOnlyCollection<string>> { ["pg2"] = [] }));

        // A walsender of its own (it feeds a cascade) with its own name is no evidence.
        Assert.Empty(WrongUpstream.Find(["pg3"], ["pg2"], new Dictionary<string, IReadOnlyCollection<string>> { ["pg3"] = ["pg3"] }));
    }
}
