using FailoverWatch.Configuration;
using FailoverWatch.Storage;
using FailoverWatch.Backup.Store;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Backup.Steps;

/// <summary>
/// Each listed file, stored under its absolute path (<c>secrets/home/mastodon/live/.env.production</c>) so two files of the
/// same name never collide and <c>restore --target /</c> puts them back in place. Always 0600: they hold keys.
/// </summary>
internal sealed class SecretsBackupStep(SecretsBackupOptions options) : IBackupStep
{
    public string Kind => BackupKinds.Secrets;

    public async Task<StepOutcome> RunAsync(BackupStepContext context, CancellationToken cancellationToken)
    {
        var entries = new List<ManifestEntry>();
        long bytes = 0;
        foreach (var path in options.Paths)
        {
            var relative = path.TrimStart('/');
            var target = Path.Combine(context.KindDirectory, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!, DurableFiles.OwnerOnlyDirectory);
            var mtime = File.GetLastWriteTimeUtc(path);
            var (sha, size) = await FileHashing.CopyAsync(path, target, DurableFiles.OwnerOnly, cancellationToken);
            File.SetUnixFileMode(target, DurableFiles.OwnerOnly);
            File.SetLastWriteTimeUtc(target, mtime);
            entries.Add(new ManifestEntry
            {
                Path = $"{Kind}/{relative}", Type = ManifestEntry.FileType, Size = size, Mode = ManifestEntry.FormatMode(DurableFiles.OwnerOnly), Mtime = mtime, Sha256 = sha,
            }.OwnedAs(path));
            bytes += size;
        }

        return new StepOutcome(entries, bytes, entries.Count);
    }
}
