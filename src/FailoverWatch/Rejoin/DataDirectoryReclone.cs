using System.Globalization;
using FailoverWatch.LocalServers;
using FailoverWatch.Processes;

namespace FailoverWatch.Rejoin;

/// <summary>
/// <c>rejoin --allow-reclone</c>: replaces a data directory pg_rewind could not fix with a fresh base backup of the
/// source. Nothing is deleted that is the only copy of anything: the directory is moved aside (a rename in its own
/// folder, so it costs no space), an older aside copy goes only once the new one is in place, and a copy that failed
/// is removed and the directory moved back. Nothing moves unless the fresh copy fits.
/// </summary>
internal sealed class DataDirectoryReclone(string dataDirectory, PostgresBinaries binaries, TextWriter progress, TimeProvider time)
{
    /// <summary>Between the data directory's name and the UTC time of the move: <c>data.before-reclone-20261204T181500Z</c>.</summary>
    public const string AsideInfix = ".before-reclone-";

    /// <summary>Beside the databases a base backup holds the WAL streamed while it runs and the server's own files.</summary>
    public const long Margin = 256L * 1024 * 1024;

    private string Parent => Path.GetDirectoryName(dataDirectory.TrimEnd('/'))!;

    private string BaseName => Path.GetFileName(dataDirectory.TrimEnd('/'));

    /// <returns>Where the old data directory now is.</returns>
    public async Task<string> RunAsync(RejoinSource source, Conninfo conninfo, CancellationToken cancellationToken)
    {
        // A tablespace's symlink points at a folder the aside copy still uses; a base backup would need it empty.
        if (Directory.EnumerateFileSystemEntries(Path.Combine(dataDirectory, "pg_tblspc")).Any())
        {
            throw new RejoinRefusedException(
                $"{dataDirectory} has tablespaces, which a reclone cannot move aside: nothing was moved; rebuild the node by hand with pg_basebackup --tablespace-mapping.");
        }

        var previous = Directory.GetDirectories(Parent, BaseName + AsideInfix + "*");
        var needed = await source.DatabasesSizeAsync(cancellationToken) + Margin;
        var free = new DriveInfo(Parent).AvailableFreeSpace;
        var reclaimable = previous.Sum(SizeOf);
        if (!Fits(needed, free, reclaimable))
        {
            throw new RejoinRefusedException(string.Create(CultureInfo.InvariantCulture,
                $"a fresh copy of the source needs about {needed / 1048576} MiB and {Parent} has {free / 1048576} MiB free (plus {reclaimable / 1048576} MiB of an older aside copy that would go): nothing was moved; free space there, then run rejoin --allow-reclone again."));
        }

        var aside = Path.Combine(Parent, BaseName + AsideInfix + time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture));
        progress.WriteLine($"moving {dataDirectory} aside to {aside}");
        Directory.Move(dataDirectory, aside);
        foreach (var older in previous)
        {
            progress.WriteLine($"removing the older aside copy {older}");
            Directory.Delete(older, recursive: true);
        }

        var copied = false;
        try
        {
            Directory.CreateDirectory(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            OsUser.GiveToServerAccount(dataDirectory);
            progress.WriteLine("taking a fresh base backup of the source");

            // Its own application_name: the backup's WAL stream must not pass for the node streaming, nor be named synchronous.
            var (program, arguments) = OsUser.AsServerAccount(
                binaries.Tool("pg_basebackup"),
                ["-D", dataDirectory, "-d", conninfo.With("application_name", "failoverwatch_reclone").ToString(), "-X", "stream", "-c", "fast"]);
            var result = await ExternalProcess.RunAsync(program, arguments, Timeout.InfiniteTimeSpan, cancellationToken, workingDirectory: Parent);
            copied = result.Succeeded;
            return copied
                ? aside
                : throw new RejoinRefusedException(
                    $"pg_basebackup from the source failed ({result.Describe()}): the data directory was put back as it was; check the source user's REPLICATION grant and pg_hba.conf, then run rejoin --allow-reclone again.");
        }
        finally
        {
            if (!copied)
            {
                // Only a partial copy of what the source holds goes; the node's own directory comes back.
                if (Directory.Exists(dataDirectory))
                {
                    Directory.Delete(dataDirectory, recursive: true);
                }

                Directory.Move(aside, dataDirectory);
            }
        }
    }

    /// <summary>Whether the fresh copy fits once the older aside copy is gone (it is removed before the copy starts).</summary>
    public static bool Fits(long needed, long free, long reclaimable) => needed <= free + reclaimable;

    private static long SizeOf(string directory) =>
        new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
}
