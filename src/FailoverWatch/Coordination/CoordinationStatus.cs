using System.Text.Json;

namespace FailoverWatch.Coordination;

/// <summary>The coordination fields of <c>/status</c> (<c>monitor_name</c>, <c>leader</c>, <c>monitors</c>), for the host and the CLI alike.</summary>
internal static class CoordinationStatus
{
    public static Dictionary<string, JsonElement> Fields(string monitorName, string? leader, IEnumerable<MonitorView> monitors) => new()
    {
        ["monitor_name"] = JsonSerializer.SerializeToElement(monitorName, CoordinationJson.Default.String),
        ["leader"] = JsonSerializer.SerializeToElement(leader, CoordinationJson.Default.String),
        ["monitors"] = JsonSerializer.SerializeToElement([.. monitors.Select(m => new MonitorStatus(m.Name, m.SeesPrimary, m.SeenAt))], CoordinationJson.Default.ListMonitorStatus),
    };
}
