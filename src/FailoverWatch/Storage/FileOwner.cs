using System.Runtime.InteropServices;

namespace FailoverWatch.Storage;

/// <summary>
/// A file's owner and group, read and set without following symbolic links. Backups record them so a restore gives
/// media and secrets back to the application's user: a root-owned <c>.env.production</c> of mode 0600 is one
/// Mastodon cannot read.
/// </summary>
internal readonly record struct FileOwner(uint Uid, uint Gid)
{
    /// <summary>Only root may give a file to another user; anyone else's restored files stay their own.</summary>
    public static bool CanGiveAway => LibC.Geteuid() == 0;

    public static unsafe FileOwner Of(string path)
    {
        Span<byte> buffer = stackalloc byte[LibC.StatxSize];
        fixed (byte* statx = buffer)
        {
            if (LibC.Statx(LibC.AtFdCwd, path, LibC.AtSymlinkNoFollow, LibC.StatxUid | LibC.StatxGid, statx) != 0)
            {
                throw Failure("statx", path);
            }
        }

        return new FileOwner(
            MemoryMarshal.Read<uint>(buffer[LibC.StatxUidOffset..]),
            MemoryMarshal.Read<uint>(buffer[LibC.StatxGidOffset..]));
    }

    /// <summary>Gives <paramref name="path"/> (a link itself, not what it points to) to this owner.</summary>
    public void ApplyTo(string path)
    {
        if (LibC.Lchown(path, Uid, Gid) != 0)
        {
            throw Failure("lchown", path);
        }
    }

    private static IOException Failure(string call, string path)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }
}
