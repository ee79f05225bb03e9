using System.Text.Json;
using System.Text.Json.Serialization;
using FailoverWatch.Configuration;
using FailoverWatch.Failover;
using FailoverWatch.Monitoring;
using FailoverWatch.Readiness;
using FailoverWatch.Routing;
using FailoverWatch.State;
using Microsoft.AspNetCore.Mvc;

namespace FailoverWatch.Http;

/// <summary>The JSON of <c>GET /status</c> and <c>failoverwatch status --json</c>, shaped as CONTRACT.md says.</summary>
internal sealed record StatusDocument(
    [property: JsonPropertyName("cluster")] string Cluster,
    [property: JsonPropertyName("primary")] string? Primary,
    [property: JsonPropertyName("auto_failover")] bool AutoFailover,
    [property: JsonPropertyName("paused")] bool Paused,
    [property: JsonPropertyName("nodes")] IReadOnlyList<NodeStatusDocument> Nodes,
    [property: JsonPropertyName("last_failover")] LastFailoverDocument? LastFailover,
    [property: JsonPropertyName("backups")] IReadOnlyDictionary<string, DateTimeOffset> Backups)
{
    /// <summary>The host's last run of the doctor's checks: per standby whether a failover to it would work, and why not.</summary>
    [JsonPropertyName("failover_readiness")]
    public ReadinessReport? FailoverReadiness { get; init; }

    /// <summary>Synchronous replication: the mode, the recorded synchronous standbys, and since when fewer than needed are.</summary>
    [JsonPropertyName("replication")]
    public ReplicationStatusDocument? Replication { get; init; }

    /// <summary>With coordination: <c>monitor_name</c>, <c>leader</c>, <c>monitors</c>, at the top level beside the rest.</summary>
    /// <remarks>set, not init: the generated JSON metadata treats init properties as constructor parameters, which extension data cannot be.</remarks>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Coordination { get; set; }

    public static StatusDocument From(string cluster, ClusterView? view, FailoverState state, bool autoFailoverConfigured, IReadOnlyDictionary<string, DateTimeOffset> backups)
    {
        var nodes = view?.Nodes.Select(NodeStatusDocument.From).ToList() ?? [];
        var primary = ClusterPrimary.Name(view, state);
        var last = state.LastFailover is { } f ? new LastFailoverDocument(f.From, f.To, f.At, f.Reason) : null;
        return new StatusDocument(cluster, primary, autoFailoverConfigured && !state.Paused, state.Paused, nodes, last, backups);
    }
}

internal sealed record NodeStatusDocument(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("reachable")] bool Reachable,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("writable")] bool Writable,
    [property: JsonPropertyName("lag_bytes")] long? LagBytes,
    [property: JsonPropertyName("receive_lag_bytes")] long? ReceiveLagBytes,
    [property: JsonPropertyName("lag_seconds")] double? LagSeconds,
    [property: JsonPropertyName("streaming")] bool? Streaming,
    [property: JsonPropertyName("timeline")] int? Timeline,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("last_probe")] DateTimeOffset LastProbe,
    [property: JsonPropertyName("probe_ms")] double ProbeMilliseconds)
{
    public static NodeStatusDocument From(NodeStatus node) => new(
        node.Name,
        node.Report.Reachable,
        node.Report.Role.ToString().ToLowerInvariant(),
        node.Report.Writable,
        node.LagBytes,
        node.ReceiveLagBytes,
        node.LagSeconds,
        node.Report.Role == NodeRole.Standby ? node.IsStreaming : null,
        node.Report.Timeline,
        node.Report.Failure?.ToString(),
        node.Report.ProbedAt,
        Math.Round(node.Report.Duration.TotalMilliseconds, 2));
}

internal sealed record LastFailoverDocument(
    [property: JsonPropertyName("from")] string From,
    [property: JsonPropertyName("to")] string To,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("reason")] string Reason);

internal sealed record ReplicationStatusDocument(
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("sync_standbys")] IReadOnlyList<string> SyncStandbys,
    [property: JsonPropertyName("degraded_since")] DateTimeOffset? DegradedSince)
{
    public static ReplicationStatusDocument From(ReplicationOptions replication, FailoverState state) =>
        new(replication.Mode, state.Replication.Standbys, replication.Synchronous ? state.Replication.DegradedSince : null);
}

/// <summary>The answer of <c>POST /pause</c> and <c>/resume</c>.</summary>
internal sealed record PausedDocument([property: JsonPropertyName("paused")] bool Paused);

/// <summary>
/// Source-generated JSON of the HTTP answers (ASP.NET's web defaults, as before), so the native binary needs
/// no reflection to write them. The host adds it to ASP.NET's JSON options for what Results.Problem writes.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StatusDocument))]
[JsonSerializable(typeof(PausedDocument))]
[JsonSerializable(typeof(SwitchoverResult))]
[JsonSerializable(typeof(ProblemDetails))]
internal sealed partial class StatusJsonContext : JsonSerializerContext
{
    /// <summary>For <c>status --json</c>: the same shape, indented for people.</summary>
    public static StatusJsonContext Indented { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
}
