using FailoverWatch.Backup;
using FailoverWatch.Backup.Steps;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.Tests.Backup;

/// <summary>Stands for the postgres step: one small file of kind <c>postgres</c>.</summary>
internal sealed class DumpStep : IBackupStep
{
    public string Kind => BackupKinds.Postgres;

    /// <summary>Writes half a dump and fails, as a dump cut off would.</summary>
    public bool Broken { get; set; }

    public async Task<StepOutcome> RunAsync(BackupStepContext context, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(context.KindDirectory);
        await File.WriteAllTextAsync(Path.Combine(context.KindDirectory, "dumpall.sql"), "-- dump", cancellationToken);
        if (Broken)
        {
            throw new IOException("disk on fire");
        }

        return new StepOutcome([new ManifestEntry { Path = "postgres/dumpall.sql", Type = ManifestEntry.FileType, Size = 7 }], 7, 1);
    }
}
