using FailoverWatch.Backup.Store;

namespace FailoverWatch.Backup.Steps;

/// <summary>
/// A folder tree: media (<c>public/system</c>) and certs (<c>/etc/letsencrypt</c>). Whole every time, unchanged files
/// hard-linked to the previous complete backup; links, modes and mtimes kept.
/// </summary>
internal sealed class TreeBackupStep(string kind, string sourcePath) : IBackupStep
{
    public string Kind => kind;

    public async Task<StepOutcome> RunAsync(BackupStepContext context, CancellationToken cancellationToken)
    {
        var copier = new TreeCopier(sourcePath, context.KindDirectory, Kind, context.PreviousEntries, context.PreviousDirectory);
        await copier.CopyAsync(cancellationToken);
        var stats = copier.Stats;
        var note = stats.Skipped.Count == 0 ? null : $"{Kind}: skipped {stats.Skipped.Count} special files (sockets, pipes, devices), first {stats.Skipped[0]}";
        return new StepOutcome(copier.Entries, stats.BytesCopied, stats.Files)
        {
            Note = note ?? $"{Kind}: {stats.FilesCopied} files copied, {stats.FilesLinked} hard-linked to the previous backup, {stats.Symlinks} symbolic links",
        };
    }
}
