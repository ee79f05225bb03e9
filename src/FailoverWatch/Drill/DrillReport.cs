using FailoverWatch.State;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FailoverWatch.Drill;

/// <summary>One step of the drill: how long it took and, when it failed, why.</summary>
internal sealed record DrillPhase(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("started_at")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("error")] string? Error);

/// <summary>
/// The drill's one JSON line (<c>POST /drill</c>'s answer, printed by <c>failoverwatch drill</c>): passed only when both
/// switchovers worked and no acknowledged canary write was lost. <see cref="Incident"/> is null when it did not start.
/// </summary>
internal sealed record DrillReport(
    [property: JsonPropertyName("passed")] bool Passed,
    [property: JsonPropertyName("from")] string? From,
    [property: JsonPropertyName("to")] string? To,
    [property: JsonPropertyName("phases")] IReadOnlyList<DrillPhase> Phases,
    [property: JsonPropertyName("canary_acknowledged")] int CanaryAcknowledged,
    [property: JsonPropertyName("canary_lost")] int? CanaryLost,
    [property: JsonPropertyName("writes_refused")] IReadOnlyList<RefusedWindow> WritesRefused,
    [property: JsonPropertyName("incident")] string? Incident);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DrillReport))]
internal sealed partial class DrillJsonContext : JsonSerializerContext;
