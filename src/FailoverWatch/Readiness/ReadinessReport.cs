using System.Text.Json.Serialization;
using FailoverWatch.Monitoring;

namespace FailoverWatch.Readiness;

/// <summary>The doctor's answer: every problem found, and per node other than the primary whether a failover to it would work now.</summary>
internal sealed record ReadinessReport(
    [property: JsonPropertyName("checked_at")] DateTimeOffset CheckedAt,
    [property: JsonPropertyName("standbys")] IReadOnlyDictionary<string, bool> Standbys,
    [property: JsonIgnore] IReadOnlyList<ReadinessProblem> Problems)
{
    [JsonPropertyName("problems")]
    public IReadOnlyList<string> ProblemLines => [.. Problems.Select(p => p.ToString())];

    /// <summary>A standby is ready when no problem blocks it: none of its own that stops its promotion, none that blocks every failover.</summary>
    public static ReadinessReport From(ClusterView view, string? primary, IReadOnlyList<ReadinessProblem> problems, DateTimeOffset checkedAt)
    {
        var standbys = view.Nodes
            .Where(n => n.Name != primary)
            .ToDictionary(n => n.Name, n => n.IsReachableStandby && !problems.Any(p => p.Blocks(n.Name)), StringComparer.Ordinal);
        var all = standbys.Values.Any(ready => ready)
            ? problems
            : [.. problems, new ReadinessProblem("cluster", "no standby is ready to be promoted")];
        return new ReadinessReport(checkedAt, standbys, all);
    }
}
