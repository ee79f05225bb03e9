using FailoverWatch.Configuration;

namespace FailoverWatch.Backup;

/// <summary>
/// The host a monitor's backups come from, as its restic snapshots are tagged (<c>--host</c> and <c>host=NAME</c>): with
/// coordination each monitor backs up the files of its own host into a repository the monitors may share, and lists,
/// parents and forgets only its own snapshots.
/// </summary>
internal static class BackupHost
{
    /// <summary><c>coordination.monitor_name</c> (by default the host name), else the host name.</summary>
    public static string Of(FailoverWatchOptions options) => options.Coordination?.Name ?? Environment.MachineName;
}
