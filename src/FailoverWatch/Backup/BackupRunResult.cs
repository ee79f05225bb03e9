using FailoverWatch.Backup.Store;

namespace FailoverWatch.Backup;

/// <summary>How a run ended. <see cref="FailedStep"/> names the step (or <c>publish</c>, <c>offsite</c>) and <see cref="Error"/> the cause.</summary>
internal sealed record BackupRunResult(string Id, bool Succeeded, string? FailedStep = null, string? Error = null)
{
    public BackupManifest? Manifest { get; init; }
    public IReadOnlyList<string> Removed { get; init; } = [];

    /// <summary>Every kind that failed; with a <see cref="Manifest"/>, the backup holds the others.</summary>
    public IReadOnlyList<FailedKind> FailedKinds { get; init; } = [];
}
