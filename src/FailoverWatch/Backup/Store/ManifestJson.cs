using System.Text.Json;
using System.Text.Json.Serialization;

namespace FailoverWatch.Backup.Store;

/// <summary>The one JSON shape of manifests and listings: snake_case keys like the configuration, nulls left out.</summary>
internal static class ManifestJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static async Task<BackupManifest> ReadAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync<BackupManifest>(stream, Options, cancellationToken)
            ?? throw new InvalidDataException($"{path} holds no manifest");
    }
}
