using FailoverWatch.Storage;
using FailoverWatch.Backup.Store;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Backup.Restore;

/// <summary>
/// Writes one kind of a backup back out, after re-checking that kind's checksums. postgres: the plain SQL (ready for
/// <c>psql -f</c>); redis: the rdb; secrets: each file under the target at its original absolute path, 0600; media and
/// certs: the tree with links, modes and mtimes, into a target folder that must not hold anything yet. Run as root, a
/// restore also gives every file back to its recorded owner; run as anyone else, the files are the runner's.
/// </summary>
internal static class BackupRestorer
{
    public static async Task<string> RestoreAsync(string backupDirectory, BackupManifest manifest, string kind, string target, CancellationToken cancellationToken)
    {
        if (!manifest.Kinds.Contains(kind))
        {
            throw new InvalidOperationException($"backup {manifest.Id} holds no {kind} (it has {string.Join(", ", manifest.Kinds)})");
        }

        var entries = manifest.OfKind(kind).ToList();
        var problems = await BackupVerifier.VerifyAsync(backupDirectory, entries, cancellationToken);
        if (problems.Count > 0)
        {
            throw new InvalidDataException($"backup {manifest.Id} {kind} is damaged: {problems[0]}");
        }

        switch (kind)
        {
            case BackupKinds.Postgres:
            {
                var dump = Path.Combine(backupDirectory, manifest.Postgres!.DumpFile);
                var file = Directory.Exists(target) ? Path.Combine(target, "dumpall.sql") : target;
                await WriteReplacingAsync(file, DurableFiles.OwnerOnly, null, async output =>
                {
                    await using var input = File.OpenRead(dump);
                    await using var sql = DumpCompression.Decompress(input, DumpCompression.CompressionOf(dump));
                    await FileHashing.CopyAsync(sql, output, cancellationToken);
                });
                return file;
            }

            case BackupKinds.Redis:
            {
                var entry = entries.Single(e => e.Type == ManifestEntry.FileType);
                var file = Directory.Exists(target) ? Path.Combine(target, "dump.rdb") : target;
                await WriteReplacingAsync(file, entry.UnixMode, entry.Owner, async output =>
                {
                    await using var input = File.OpenRead(Path.Combine(backupDirectory, entry.Path));
                    await FileHashing.CopyAsync(input, output, cancellationToken);
                });
                return file;
            }

            case BackupKinds.Secrets:
                foreach (var entry in entries.Where(e => e.Type == ManifestEntry.FileType))
                {
                    var file = TargetPath(target, kind, entry);
                    Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                    await WriteReplacingAsync(file, DurableFiles.OwnerOnly, entry.Owner, async output =>
                    {
                        await using var input = File.OpenRead(Path.Combine(backupDirectory, entry.Path));
                        await FileHashing.CopyAsync(input, output, cancellationToken);
                    });
                }

                return target;

            default:
                if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
                {
                    throw new IOException($"{target} is not empty: restore a tree into a new or empty folder, then swap it in");
                }

                await new TreeCopier(Path.Combine(backupDirectory, kind), target, kind).CopyAsync(cancellationToken);
                GiveBackOwners(entries, kind, target);
                return target;
        }
    }

    /// <summary>Where an entry goes under the target: its path without the kind's folder (<c>media/a.png</c> to <c>a.png</c>).</summary>
    private static string TargetPath(string target, string kind, ManifestEntry entry) => Path.Combine(target, entry.Path[(kind.Length + 1)..]);

    private static void GiveBackOwners(IEnumerable<ManifestEntry> entries, string kind, string target)
    {
        if (!FileOwner.CanGiveAway)
        {
            return;
        }

        foreach (var entry in entries)
        {
            if (entry.Owner is { } owner)
            {
                var path = TargetPath(target, kind, entry);
                owner.ApplyTo(path);
                if (entry.Type != ManifestEntry.SymlinkType)
                {
                    // A change of owner clears setuid and setgid bits: the recorded mode goes back on after it.
                    File.SetUnixFileMode(path, entry.UnixMode);
                }
            }
        }
    }

    /// <summary>Writes beside the target and renames over it: a restore interrupted half-way never leaves half a file in place.</summary>
    private static async Task WriteReplacingAsync(string path, UnixFileMode mode, FileOwner? owner, Func<Stream, Task> write)
    {
        var temp = path + ".fw-restore-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            await using (var output = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode }))
            {
                await write(output);
                output.Flush(flushToDisk: true);
            }

            if (owner is { } given && FileOwner.CanGiveAway)
            {
                given.ApplyTo(temp);
            }

            File.SetUnixFileMode(temp, mode);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
