using System.Text.Json.Serialization;

namespace FailoverWatch.State;

/// <summary>
/// Writes were refused from <paramref name="From"/> (the first refused) to <paramref name="To"/> (the next accepted);
/// <see cref="During"/> names the drill step under way when they began (which switchover).
/// </summary>
internal sealed record RefusedWindow(
    [property: JsonPropertyName("from")] DateTimeOffset From,
    [property: JsonPropertyName("to")] DateTimeOffset To)
{
    [JsonPropertyName("seconds")]
    public double Seconds => Math.Round((To - From).TotalSeconds, 3);

    [JsonPropertyName("during")]
    public string? During { get; init; }
}

/// <summary>The incident's <c>drill</c> record: the canary's proof and what clients saw of each switchover.</summary>
internal sealed record DrillOutcome(
    [property: JsonPropertyName("passed")] bool Passed,
    [property: JsonPropertyName("canary_acknowledged")] int CanaryAcknowledged,
    [property: JsonPropertyName("canary_lost")] int? CanaryLost,
    [property: JsonPropertyName("writes_refused")] IReadOnlyList<RefusedWindow> WritesRefused);
