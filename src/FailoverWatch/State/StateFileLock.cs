using System.Globalization;
using System.Runtime.InteropServices;
using FailoverWatch.Storage;
using Microsoft.Win32.SafeHandles;

namespace FailoverWatch.State;

/// <summary>
/// One monitor per state file: an exclusive flock on <c>STATE_FILE.lock</c>, held for the process's life and released
/// by the kernel when it ends however it ends (no stale lock after a kill -9). The file names the holder.
/// Several monitors of one cluster coordinate through <c>coordination</c>, never through a shared file.
/// </summary>
internal sealed class StateFileLock : IDisposable
{
    private const int WouldBlock = 11;
    private readonly FileStream _file;

    private StateFileLock(FileStream file) => _file = file;

    /// <returns>The lock, or null with <paramref name="holder"/> saying who holds it.</returns>
    public static StateFileLock? TryAcquire(string stateFile, out string holder)
    {
        var path = stateFile + ".lock";
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        // Opened and locked with libc, not FileStream: .NET's own advisory lock on open would keep a second monitor
        // from even reading who holds this one. Held open read-only (flock needs no more), so the filesystem can
        // still be remounted read-only under a running monitor.
        var fd = LibC.Open(path, LibC.ORdOnly | LibC.OCreat | LibC.OCloexec, Convert.ToUInt32("600", 8));
        if (fd < 0)
        {
            throw Failure("open", path, Marshal.GetLastPInvokeError());
        }

        var file = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read);
        if (LibC.Flock(fd, LibC.LockExclusive | LibC.LockNonBlocking) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            using (file)
            {
                holder = errno == WouldBlock
                    ? new StreamReader(file).ReadToEnd().Trim() is { Length: > 0 } text ? text : "a process that has not named itself yet"
                    : throw Failure("flock", path, errno);
                return null;
            }
        }

        holder = string.Create(CultureInfo.InvariantCulture, $"pid {Environment.ProcessId} on host {Environment.MachineName}, since {DateTimeOffset.UtcNow:O}");
        var writeFd = LibC.Open(path, LibC.OWrOnly | LibC.OTrunc | LibC.OCloexec, 0);
        if (writeFd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            file.Dispose();
            throw Failure("open", path, errno);
        }

        // Closing this second descriptor keeps the lock: a flock belongs to the first one's open file.
        using (var writer = new StreamWriter(new FileStream(new SafeFileHandle(writeFd, ownsHandle: true), FileAccess.Write)))
        {
            writer.WriteLine(holder);
        }

        return new StateFileLock(file);
    }

    private static IOException Failure(string call, string path, int errno) => new($"{call} {path}: {Marshal.GetPInvokeErrorMessage(errno)}");

    public void Dispose() => _file.Dispose();
}
