using System.Text.Json;

namespace FailoverWatch.Incidents;

/// <summary>Incidents as <c>GET /incidents</c> and <c>failoverwatch incidents --json</c> print them: the state file's snake_case.</summary>
internal static class IncidentJson
{
    public static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };
}
