using System.Text.Json;
using FailoverWatch.Http;
using FailoverWatch.Readiness;
using FailoverWatch.State;

namespace FailoverWatch.Tests.Http;

/// <summary>The source-generated JSON the native binary writes and reads: every shape it meets, not only the empty one.</summary>
public sealed class StatusJsonTests
{
    [Fact]
    public void status_with_readiness_and_coordination_fields_is_written_by_the_generated_context()
    {
        var readiness = new ReadinessReport(DateTimeOffset.UnixEpoch, new Dictionary<string, bool> { ["pg2"] = true }, []);
        var status = StatusDocument.From("c1", null, FailoverState.Empty, true, new Dictionary<string, DateTimeOffset>()) with
        {
            FailoverReadiness = readiness,
            Coordination = new() { ["monitor_name"] = JsonSerializer.SerializeToElement("fw1", StatusJsonContext.Default.String) },
        };

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(status, StatusJsonContext.Default.StatusDocument));

        Assert.True(json.RootElement.GetProperty("failover_readiness").GetProperty("standbys").GetProperty("pg2").GetBoolean());
        Assert.Equal("fw1", json.RootElement.GetProperty("monitor_name").GetString());
    }

    [Fact]
    public void a_state_file_without_history_or_incidents_reads_as_empty_lists()
    {
        var state = JsonSerializer.Deserialize("""{ "primary": "pg1" }""", FailoverStateJsonContext.Default.FailoverState)!;

        Assert.Empty(state.History);
        Assert.Empty(state.Incidents);
        Assert.Null(state.LastFailover);
    }
}
