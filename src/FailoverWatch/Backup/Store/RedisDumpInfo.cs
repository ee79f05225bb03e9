namespace FailoverWatch.Backup.Store;

/// <summary>Whether the rdb file is a fresh BGSAVE or the file found on disk because Redis was down.</summary>
internal sealed record RedisDumpInfo
{
    public required bool FreshSave { get; init; }
    public string? Note { get; init; }
    public DateTimeOffset? LastSave { get; init; }

    /// <summary>Without a fresh save: when Redis last wrote the copied file (its mtime), and how old it was when copied.</summary>
    public DateTimeOffset? FileWrittenAt { get; init; }

    public double? FileAgeSeconds { get; init; }
}
