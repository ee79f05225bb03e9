using FailoverWatch.Backup.Store;

namespace FailoverWatch.Backup.Steps;

/// <summary>What a step needs from the run: where to write, and the previous complete backup to link unchanged files against.</summary>
internal sealed record BackupStepContext(string RunDirectory, string Kind, BackupManifest? Previous, string? PreviousDirectory)
{
    public string KindDirectory => Path.Combine(RunDirectory, Kind);

    /// <summary>The previous backup's entries of this kind by path, or null when there is none to link against.</summary>
    public IReadOnlyDictionary<string, ManifestEntry>? PreviousEntries =>
        Previous?.OfKind(Kind).ToDictionary(e => e.Path, StringComparer.Ordinal);
}
