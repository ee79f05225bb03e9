using FailoverWatch.Storage;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Backup.Store;

/// <summary>
/// Copies a folder tree keeping symbolic links as links (certbot's <c>live/</c> points into <c>archive/</c>;
/// following the links would break renewal after a restore), modes and mtimes. Given the previous complete
/// backup's entries, an unchanged file (same size, mtime and mode: the rsync quick check) becomes a hard link
/// to the previous copy and keeps its recorded checksum, so a run costs only what changed. Owners are recorded in the
/// entries, not given to the copies: a backup stays its runner's, and a restore gives them back (<see cref="Restore.BackupRestorer"/>).
/// </summary>
internal sealed class TreeCopier(
    string sourceRoot,
    string destinationRoot,
    string manifestPrefix,
    IReadOnlyDictionary<string, ManifestEntry>? previousEntries = null,
    string? previousBackupDirectory = null,
    UnixFileMode? forcedFileMode = null)
{
    private readonly List<ManifestEntry> _entries = [];

    public TreeCopyStats Stats { get; } = new();

    public IReadOnlyList<ManifestEntry> Entries => _entries;

    public async Task CopyAsync(CancellationToken cancellationToken)
    {
        var root = new DirectoryInfo(sourceRoot);
        if (!root.Exists)
        {
            throw new DirectoryNotFoundException($"{sourceRoot} does not exist");
        }

        Directory.CreateDirectory(destinationRoot);
        await CopyDirectoryAsync(root, destinationRoot, manifestPrefix, cancellationToken);
        SetDirectoryAttributes(root, destinationRoot);
    }

    private async Task CopyDirectoryAsync(DirectoryInfo source, string destination, string relative, CancellationToken cancellationToken)
    {
        foreach (var item in source.EnumerateFileSystemInfos())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var target = Path.Combine(destination, item.Name);
            var itemRelative = relative + "/" + item.Name;
            if (item.LinkTarget is { } linkTarget)
            {
                // Kept verbatim, relative or absolute, as certbot wrote it.
                File.CreateSymbolicLink(target, linkTarget);
                _entries.Add(new ManifestEntry { Path = itemRelative, Type = ManifestEntry.SymlinkType, LinkTarget = linkTarget, Mode = "0777" }.OwnedAs(item.FullName));
                Stats.Symlinks++;
            }
            else if (item is DirectoryInfo directory)
            {
                Directory.CreateDirectory(target);
                await CopyDirectoryAsync(directory, target, itemRelative, cancellationToken);
                SetDirectoryAttributes(directory, target);
                _entries.Add(new ManifestEntry
                {
                    Path = itemRelative, Type = ManifestEntry.DirectoryType, Mode = ManifestEntry.FormatMode(directory.UnixFileMode), Mtime = directory.LastWriteTimeUtc,
                }.OwnedAs(directory.FullName));
                Stats.Directories++;
            }
            else if (item is FileInfo file && (file.Attributes & (FileAttributes.Device | FileAttributes.System)) == 0 && IsRegular(file))
            {
                await CopyFileAsync(file, target, itemRelative, cancellationToken);
            }
            else
            {
                // Sockets, pipes and devices are not data to back up.
                Stats.Skipped.Add(itemRelative);
            }
        }
    }

    private async Task CopyFileAsync(FileInfo file, string target, string relative, CancellationToken cancellationToken)
    {
        var mode = forcedFileMode ?? file.UnixFileMode;
        var mtime = file.LastWriteTimeUtc;
        var size = file.Length;
        var owner = FileOwner.Of(file.FullName);
        if (previousEntries is not null && previousBackupDirectory is not null
            && previousEntries.TryGetValue(relative, out var previous)
            && previous is { Type: ManifestEntry.FileType, Sha256: not null }
            && previous.Size == size && previous.Mtime == mtime && previous.UnixMode == mode && previous.Owner == owner
            && DurableFiles.TryHardLink(Path.Combine(previousBackupDirectory, relative), target))
        {
            _entries.Add(previous);
            Stats.FilesLinked++;
            return;
        }

        var (sha, bytes) = await FileHashing.CopyAsync(file.FullName, target, mode, cancellationToken);
        File.SetUnixFileMode(target, mode);
        File.SetLastWriteTimeUtc(target, mtime);
        _entries.Add(new ManifestEntry
        {
            Path = relative, Type = ManifestEntry.FileType, Size = bytes, Mode = ManifestEntry.FormatMode(mode), Mtime = mtime, Sha256 = sha, Uid = owner.Uid, Gid = owner.Gid,
        });
        Stats.FilesCopied++;
        Stats.BytesCopied += bytes;
    }

    private static bool IsRegular(FileInfo file) => file.Exists && file.LinkTarget is null;

    private static void SetDirectoryAttributes(DirectoryInfo source, string target)
    {
        File.SetUnixFileMode(target, source.UnixFileMode);
        Directory.SetLastWriteTimeUtc(target, source.LastWriteTimeUtc);
    }
}
