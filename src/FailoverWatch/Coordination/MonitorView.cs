using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Mvccpb;

namespace FailoverWatch.Coordination;

/// <summary>
/// One monitor's registration and view, published under <c>PREFIX/CLUSTER/monitors/NAME</c> with the monitor's lease
/// (gone within lease_ttl when the monitor dies). <paramref name="Instance"/> tells a restarted or duplicate monitor from this one.
/// <paramref name="LastWritable"/> is the node this monitor last saw as the only writable one, whatever etcd records:
/// what a new leader goes by when its predecessor died before recording any primary (<see cref="MonitorVotes.Count"/>).
/// </summary>
internal sealed record MonitorView(
    string Name,
    string Instance,
    string Http,
    string? Primary,
    int PrimaryFailures,
    bool SeesPrimary,
    DateTimeOffset SeenAt,
    string? LastWritable = null)
{
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, CoordinationJson.Default.MonitorView);

    /// <summary>A view as published; null for one this version cannot read.</summary>
    public static MonitorView? Parse(ReadOnlySpan<byte> json) => CoordinationJson.ParseOrNull(json, CoordinationJson.Default.MonitorView);

    public static MonitorView[] ReadAll(IEnumerable<KeyValue> keyValues) => [.. keyValues.Select(kv => Parse(kv.Value.Span)).OfType<MonitorView>()];
}

/// <summary>One entry of <c>monitors</c> in <c>/status</c>.</summary>
internal sealed record MonitorStatus(string Name, bool SeesPrimary, DateTimeOffset SeenAt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(MonitorView))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(ActionRecord))]
[JsonSerializable(typeof(SwitchoverRecord))]
[JsonSerializable(typeof(List<MonitorStatus>))]
internal sealed partial class CoordinationJson : JsonSerializerContext
{
    /// <summary>A value as another monitor (perhaps another version) wrote it; null when this one cannot read it.</summary>
    public static T? ParseOrNull<T>(ReadOnlySpan<byte> json, JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(json, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
