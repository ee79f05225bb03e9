using FailoverWatch.Backup.Store;

namespace FailoverWatch.Backup.Steps;

/// <summary>What a step wrote: its manifest entries, what it cost (bytes newly written, files), and its section of the manifest.</summary>
internal sealed record StepOutcome(IReadOnlyList<ManifestEntry> Entries, long BytesWritten, int Files)
{
    public PostgresDumpInfo? Postgres { get; init; }
    public RedisDumpInfo? Redis { get; init; }
    public string? Note { get; init; }

    /// <summary>Media is not on disk but in object storage, named here (<see cref="BackupManifest.MediaInObjectStorage"/>).</summary>
    public string? MediaInObjectStorage { get; init; }

    /// <summary>The note says the backup is not what a plain success suggests (an old rdb file, the primary dumped instead of a stale standby): logged as a warning.</summary>
    public bool NoteIsWarning { get; init; }

    public long TotalBytes => Entries.Where(e => e.Type == ManifestEntry.FileType).Sum(e => e.Size);
}
