using FailoverWatch.Storage;
using FailoverWatch.Backup.Store;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Backup.Offsite;

/// <summary>
/// Copies a complete backup to <c>offsite.path</c>, driven by its manifest: every file is re-hashed on the way and
/// must match (so the copy also verifies the local backup), files whose checksum equals the previous off-site backup's
/// are hard links to it, and the folder is published by a rename from <c>.tmp-&lt;id&gt;</c> like the local one.
/// </summary>
internal static class OffsiteCopier
{
    public static async Task CopyAsync(string sourceDirectory, BackupManifest manifest, string offsiteRoot, CancellationToken cancellationToken)
    {
        var store = new BackupStore(offsiteRoot);
        Directory.CreateDirectory(offsiteRoot, DurableFiles.OwnerOnlyDirectory);
        var previous = await store.NewestAsync(cancellationToken);
        var previousEntries = previous?.Manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        var temp = Path.Combine(offsiteRoot, BackupStore.TempPrefix + manifest.Id);
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }

        Directory.CreateDirectory(temp, DurableFiles.OwnerOnlyDirectory);
        try
        {
            foreach (var kind in manifest.Kinds)
            {
                Directory.CreateDirectory(Path.Combine(temp, kind));
            }

            foreach (var entry in manifest.Files.OrderBy(f => f.Path, StringComparer.Ordinal))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var target = Path.Combine(temp, entry.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                switch (entry.Type)
                {
                    case ManifestEntry.DirectoryType:
                        Directory.CreateDirectory(target);
                        break;
                    case ManifestEntry.SymlinkType:
                        File.CreateSymbolicLink(target, entry.LinkTarget!);
                        break;
                    default:
                        await CopyFileAsync(sourceDirectory, entry, target, previous is { } p ? store.PathOf(p.Id) : null, previousEntries, cancellationToken);
                        break;
                }
            }

            // Folder modes and mtimes last, deepest first: adding their children changed them.
            foreach (var entry in manifest.Files.Where(f => f.Type == ManifestEntry.DirectoryType).OrderByDescending(f => f.Path.Length))
            {
                var target = Path.Combine(temp, entry.Path);
                File.SetUnixFileMode(target, entry.UnixMode);
                Directory.SetLastWriteTimeUtc(target, entry.Mtime);
            }

            File.Copy(Path.Combine(sourceDirectory, BackupManifest.FileName), Path.Combine(temp, BackupManifest.FileName));
            DurableFiles.SyncFilesystem(temp);
            Directory.Move(temp, store.PathOf(manifest.Id));
            DurableFiles.FsyncDirectory(offsiteRoot);
        }
        catch
        {
            try
            {
                Directory.Delete(temp, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Never looks complete; the next copy replaces it.
            }

            throw;
        }
    }

    private static async Task CopyFileAsync(
        string sourceDirectory, ManifestEntry entry, string target, string? previousDirectory, Dictionary<string, ManifestEntry>? previousEntries, CancellationToken cancellationToken)
    {
        if (previousDirectory is not null && previousEntries is not null
            && previousEntries.TryGetValue(entry.Path, out var old) && old == entry
            && DurableFiles.TryHardLink(Path.Combine(previousDirectory, entry.Path), target))
        {
            return;
        }

        var (sha, _) = await FileHashing.CopyAsync(Path.Combine(sourceDirectory, entry.Path), target, entry.UnixMode, cancellationToken);
        if (sha != entry.Sha256)
        {
            throw new InvalidDataException($"{entry.Path}: checksum {sha} differs from the manifest's {entry.Sha256}; the local backup is damaged");
        }

        File.SetUnixFileMode(target, entry.UnixMode);
        File.SetLastWriteTimeUtc(target, entry.Mtime);
    }
}
