using System.Runtime.InteropServices;

namespace FailoverWatch.Storage;

/// <summary>The few Linux calls .NET has no API for: hard links, file owners, flushing a folder or a whole filesystem, signalling a process group, flock.</summary>
internal static partial class LibC
{
    public const int ORdOnly = 0;

    /// <summary>O_DIRECTORY differs by architecture: 040000 on arm and powerpc, 0200000 on x86-64 and the generic ABI.</summary>
    public static readonly int ODirectory = RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 or Architecture.Armv6 or Architecture.Ppc64le
        ? 0x4000
        : 0x10000;

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Link(string existing, string created);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    public const int OWrOnly = 1;
    public const int OCreat = 0x40;
    public const int OTrunc = 0x200;
    public const int OCloexec = 0x80000;

    /// <summary>open(2) with a mode, for O_CREAT.</summary>
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, uint mode);

    public const int LockExclusive = 2;
    public const int LockNonBlocking = 4;

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    public static partial int Syncfs(int fd);

    public const int FSetPipeSize = 1031;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const uint StatxUid = 0x8;
    public const uint StatxGid = 0x10;

    /// <summary>struct statx is 256 bytes with the same layout on every architecture, unlike struct stat.</summary>
    public const int StatxSize = 256;
    public const int StatxUidOffset = 20;
    public const int StatxGidOffset = 24;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Lchown(string path, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint Geteuid();
}
