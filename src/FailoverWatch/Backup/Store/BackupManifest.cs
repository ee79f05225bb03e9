namespace FailoverWatch.Backup.Store;

/// <summary>The record of one complete backup: <c>manifest.json</c>, written last, fsynced, before the publishing rename.</summary>
internal sealed record BackupManifest
{
    public const string FileName = "manifest.json";

    public required string Id { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    public required string FailoverwatchVersion { get; init; }
    public required List<string> Kinds { get; init; }
    public PostgresDumpInfo? Postgres { get; init; }
    public RedisDumpInfo? Redis { get; init; }
    public List<string> Notes { get; init => field = value ?? []; } = [];

    /// <summary>The kinds this run tried and could not take, with the cause; null when every kind worked.</summary>
    public List<FailedKind>? Failed { get; init; }

    /// <summary>Set when media lives in object storage (<c>S3_ENABLED=true</c>): where it is, and why <c>media/</c> is empty.</summary>
    public string? MediaInObjectStorage { get; init; }
    public required List<ManifestEntry> Files { get; init; }

    public long TotalBytes => Files.Where(f => f.Type == ManifestEntry.FileType).Sum(f => f.Size);

    /// <summary>
    /// The kind's last-success time: <paramref name="finished"/>, or the copied rdb file's own time when Redis could not
    /// save, so "backup too old" still fires while Redis stays down.
    /// </summary>
    public DateTimeOffset DataTimeOf(string kind, DateTimeOffset finished) =>
        kind == BackupKinds.Redis && Redis is { FreshSave: false, FileWrittenAt: { } written } && written < finished ? written : finished;

    public IEnumerable<ManifestEntry> OfKind(string kind) => Files.Where(f => f.Path.StartsWith(kind + "/", StringComparison.Ordinal));
}
