using System.Runtime.InteropServices;

namespace FailoverWatch.Storage;

/// <summary>File operations whose result must survive a power cut: a backup or the state file is only replaced once its bytes are on disk.</summary>
internal static class DurableFiles
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Makes a hard link; false when the filesystem refuses (other device, too many links), so the caller copies.</summary>
    public static bool TryHardLink(string existing, string created) => LibC.Link(existing, created) == 0;

    /// <summary>fsync of a folder: makes a rename or a new entry in it durable.</summary>
    public static void FsyncDirectory(string directory) => WithDirectory(directory, LibC.Fsync, "fsync");

    /// <summary>syncfs: flushes every file written under the folder's filesystem in one call, instead of one fsync per media file.</summary>
    public static void SyncFilesystem(string directory) => WithDirectory(directory, LibC.Syncfs, "syncfs");

    /// <summary>Writes a small file (manifest, state) and fsyncs it before returning.</summary>
    public static async Task WriteAllBytesAsync(string path, ReadOnlyMemory<byte> bytes, UnixFileMode mode, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode };
        await using var stream = new FileStream(path, options);
        await stream.WriteAsync(bytes, cancellationToken);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Writes next to the target then renames over it, so readers see the old or the new file, never half of one.</summary>
    public static async Task ReplaceAsync(string path, ReadOnlyMemory<byte> bytes, UnixFileMode mode, CancellationToken cancellationToken)
    {
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        await WriteAllBytesAsync(temp, bytes, mode, cancellationToken);
        File.Move(temp, path, overwrite: true);
        FsyncDirectory(Path.GetDirectoryName(path)!);
    }

    private static void WithDirectory(string directory, Func<int, int> call, string what)
    {
        var fd = LibC.Open(directory, LibC.ORdOnly | LibC.ODirectory);
        if (fd < 0)
        {
            throw new IOException($"cannot open {directory} for {what}: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            if (call(fd) != 0)
            {
                throw new IOException($"{what} of {directory} failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            _ = LibC.Close(fd);
        }
    }
}
