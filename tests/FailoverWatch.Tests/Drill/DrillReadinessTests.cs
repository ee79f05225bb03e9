using System.Text.Json;
using FailoverWatch.Drill;

namespace FailoverWatch.Tests.Drill;

/// <summary>When the drill may start, read from the shape of GET /status.</summary>
public sealed class DrillReadinessTests
{
    private const string Pg2Streaming = """{ "name": "pg2", "reachable": true, "role": "standby", "streaming": true, "lag_bytes": 0, "receive_lag_bytes": 0 }""";

    [Fact]
    public void starts_with_the_ready_standby_when_every_standby_streams_with_lag_0()
    {
        Assert.Null(DrillRunner.NotReady(Status("\"pg1\"", Pg2Streaming, """{ "pg2": true }"""), out var target));
        Assert.Equal("pg2", target);
    }

    [Theory]
    [InlineData("null", Pg2Streaming, """{ "pg2": true }""", "[]", "the host knows no primary")]
    [InlineData("\"pg1\"", Pg2Streaming, """{ "pg2": true }""", """["pg2: cannot connect"]""", "the doctor's checks fail: pg2: cannot connect")]
    [InlineData("\"pg1\"", """{ "name": "pg2", "reachable": true, "role": "standby", "streaming": true, "lag_bytes": 8192, "receive_lag_bytes": 0 }""", """{ "pg2": true }""", "[]", "pg2 is not a standby streaming with lag 0")]
    [InlineData("\"pg1\"", """{ "name": "pg2", "reachable": true, "role": "standby", "streaming": false, "lag_bytes": 0, "receive_lag_bytes": 0 }""", """{ "pg2": true }""", "[]", "pg2 is not a standby streaming with lag 0")]
    [InlineData("\"pg1\"", """{ "name": "pg2", "reachable": false, "role": "unknown", "lag_bytes": null }""", """{ "pg2": false }""", "[]", "pg2 is not a standby streaming with lag 0")]
    [InlineData("\"pg1\"", Pg2Streaming, """{ "pg2": false }""", "[]", "no standby is ready for a switchover")]
    public void refuses_a_cluster_that_is_not_ready(string primary, string pg2, string ready, string problems, string expected)
    {
        Assert.Equal(expected, DrillRunner.NotReady(Status(primary, pg2, ready, problems), out var target));
        Assert.Null(target);
    }

    [Fact]
    public void refuses_before_the_host_ran_its_first_readiness_check()
    {
        using var document = JsonDocument.Parse($$"""{ "primary": "pg1", "nodes": [{{Pg2Streaming}}] }""");
        Assert.Equal(
            "the doctor's checks fail: the host has not run its first readiness check yet",
            DrillRunner.NotReady(ClusterSnapshot.From(document.RootElement), out _));
    }

    private static ClusterSnapshot Status(string primary, string pg2, string ready, string problems = "[]")
    {
        using var document = JsonDocument.Parse($$"""
            {
              "primary": {{primary}},
              "nodes": [ { "name": "pg1", "reachable": true, "role": "primary", "lag_bytes": null }, {{pg2}} ],
              "failover_readiness": { "standbys": {{ready}}, "problems": {{problems}} }
            }
            """);
        return ClusterSnapshot.From(document.RootElement);
    }
}
