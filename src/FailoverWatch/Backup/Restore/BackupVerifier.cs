using FailoverWatch.Backup.Store;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Backup.Restore;

/// <summary>Re-hashes every file of a backup against its manifest and checks links and folders: a list of problems, empty when whole.</summary>
internal static class BackupVerifier
{
    public static async Task<IReadOnlyList<string>> VerifyAsync(string backupDirectory, IEnumerable<ManifestEntry> entries, CancellationToken cancellationToken)
    {
        var problems = new System.Collections.Concurrent.ConcurrentBag<string>();
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount, 1, 4), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(entries, options, async (entry, token) =>
        {
            var path = Path.Combine(backupDirectory, entry.Path);
            var info = new FileInfo(path);
            switch (entry.Type)
            {
                case ManifestEntry.SymlinkType:
                    if (info.LinkTarget != entry.LinkTarget)
                    {
                        problems.Add($"{entry.Path}: symbolic link to '{info.LinkTarget}', manifest says '{entry.LinkTarget}'");
                    }

                    break;
                case ManifestEntry.DirectoryType:
                    if (!Directory.Exists(path))
                    {
                        problems.Add($"{entry.Path}: folder missing");
                    }

                    break;
                default:
                    if (!info.Exists || info.LinkTarget is not null)
                    {
                        problems.Add($"{entry.Path}: missing");
                        break;
                    }

                    if (info.Length != entry.Size)
                    {
                        problems.Add($"{entry.Path}: {info.Length} bytes, manifest says {entry.Size}");
                        break;
                    }

                    var (sha, _) = await FileHashing.HashAsync(path, token);
                    if (sha != entry.Sha256)
                    {
                        problems.Add($"{entry.Path}: SHA-256 {sha} differs from the manifest's {entry.Sha256}");
                    }

                    break;
            }
        });
        return [.. problems.Order(StringComparer.Ordinal)];
    }
}
