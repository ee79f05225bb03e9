using System.Net.Http.Headers;
using System.Text.Json;
using FailoverWatch.Configuration;
using FailoverWatch.Http;

namespace FailoverWatch.Drill;

/// <summary>The running host as the drill sees it: GET /status, and POST /switchover with the admin token.</summary>
internal sealed class ClusterControl(FailoverWatchOptions options, HttpClient http)
{
    private readonly Uri _base = MonitorHttpClient.Local(options.Http);

    public async Task<ClusterSnapshot> StatusAsync(CancellationToken cancellationToken)
    {
        using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri(_base, "status"), cancellationToken));
        return ClusterSnapshot.From(document.RootElement);
    }

    /// <summary>Null when the host switched over; else why not, in the host's words.</summary>
    public async Task<string?> SwitchoverAsync(string to, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, $"switchover?to={Uri.EscapeDataString(to)}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(options.Http.AdminTokenFile!, cancellationToken)).Trim());
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode ? null : $"switchover to {to} refused ({(int)response.StatusCode}): {body.Trim()}";
    }
}

/// <summary>What the drill reads from /status: the primary, each node's state, and the doctor's verdict per standby.</summary>
internal sealed record ClusterSnapshot(string? Primary, IReadOnlyList<NodeSnapshot> Nodes, IReadOnlyDictionary<string, bool> Ready, IReadOnlyList<string> Problems)
{
    public static ClusterSnapshot From(JsonElement status)
    {
        var nodes = status.GetProperty("nodes").EnumerateArray().Select(n => new NodeSnapshot(
            n.GetProperty("name").GetString()!,
            n.GetProperty("reachable").GetBoolean(),
            n.GetProperty("role").GetString()!,
            n.TryGetProperty("streaming", out var s) && s.ValueKind == JsonValueKind.True,
            Long(n, "lag_bytes"),
            Long(n, "receive_lag_bytes"))).ToList();
        var ready = new Dictionary<string, bool>(StringComparer.Ordinal);
        var problems = new List<string>();
        if (status.TryGetProperty("failover_readiness", out var readiness) && readiness.ValueKind == JsonValueKind.Object)
        {
            foreach (var standby in readiness.GetProperty("standbys").EnumerateObject())
            {
                ready[standby.Name] = standby.Value.GetBoolean();
            }

            problems.AddRange(readiness.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!));
        }
        else
        {
            problems.Add("the host has not run its first readiness check yet");
        }

        var primary = status.GetProperty("primary");
        return new ClusterSnapshot(primary.ValueKind == JsonValueKind.String ? primary.GetString() : null, nodes, ready, problems);
    }

    /// <summary>Whether <paramref name="node"/> is a reachable standby whose WAL receiver streams.</summary>
    public bool Streams(string node) =>
        Primary is not null && Primary != node && Nodes.Any(n => n.Name == node && n.Reachable && n.Role == "standby" && n.Streaming);

    /// <summary>Whether <paramref name="node"/> streams with nothing left to receive or replay.</summary>
    public bool StreamsCaughtUp(string node) =>
        Streams(node) && Nodes.Any(n => n.Name == node && n.LagBytes == 0 && n.ReceiveLagBytes == 0);

    private static long? Long(JsonElement node, string name) =>
        node.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;
}

internal sealed record NodeSnapshot(string Name, bool Reachable, string Role, bool Streaming, long? LagBytes, long? ReceiveLagBytes);
