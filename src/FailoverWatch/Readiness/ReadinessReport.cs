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

    /// <summary>A standby is ready when it has no problem of its own and nothing blocks every failover.</summary>
    public static ReadinessReport From(ClusterView view, string? primary, IReadOnlyList<ReadinessProblem> problems, DateTimeOffset checkedAt)
    {
        var blocked = problems.Any(p => p.BlocksEveryStandby);
        var standbys = view.Nodes
            .Where(n => n.Name != primary)
            .ToDictionary(n => n.Name, n => !blocked && n.IsReachableStandby && problems.All(p => p.Subject != n.Name), StringComparer.Ordinal);
        var all = standbys.Values.Any(ready => ready)
            ? problems
            : [.. problems, new ReadinessProblem("cluster", "no standby is ready to be promoted")];
        return new ReadinessReport(checkedAt, standbys, all);
    }
}
