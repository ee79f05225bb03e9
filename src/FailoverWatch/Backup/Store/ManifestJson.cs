using System.Text.Json;
using System.Text.Json.Serialization;

namespace FailoverWatch.Backup.Store;

/// <summary>The one JSON shape of manifests and listings: snake_case keys like the configuration, nulls left out.</summary>
internal static class ManifestJson
{
    public static byte[] Serialize(BackupManifest manifest) => JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJsonContext.Default.BackupManifest);

    public static byte[] Serialize(VerificationRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, ManifestJsonContext.Default.VerificationRecord);

    public static string Serialize(List<BackupListing> rows) => JsonSerializer.Serialize(rows, ManifestJsonContext.Default.ListBackupListing);

    public static async Task<BackupManifest> ReadAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync(stream, ManifestJsonContext.Default.BackupManifest, cancellationToken)
            ?? throw new InvalidDataException($"{path} holds no manifest");
    }

    public static async Task<VerificationRecord?> ReadVerificationAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync(stream, ManifestJsonContext.Default.VerificationRecord, cancellationToken);
    }
}

// Source-generated, so the native binary needs no reflection to read or write them.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(BackupManifest))]
[JsonSerializable(typeof(VerificationRecord))]
[JsonSerializable(typeof(List<BackupListing>))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
