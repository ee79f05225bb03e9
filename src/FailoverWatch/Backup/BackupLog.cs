using Microsoft.Extensions.Logging;

namespace FailoverWatch.Backup;

/// <summary>Every backup log line, source-generated, with its event id in one place.</summary>
internal static partial class BackupLog
{
    [LoggerMessage(4001, LogLevel.Information, "Backup {Id} started: {Kinds}")]
    public static partial void RunStarted(ILogger logger, string id, string kinds);

    [LoggerMessage(4002, LogLevel.Information, "Backup step {Kind} done: {Bytes} bytes written, {Files} files, {Seconds:0.0}s")]
    public static partial void StepDone(ILogger logger, string kind, long bytes, int files, double seconds);

    [LoggerMessage(4003, LogLevel.Error, "Backup {Id} failed in step {Step}: {Cause}")]
    public static partial void StepFailed(ILogger logger, string id, string step, string cause);

    [LoggerMessage(4004, LogLevel.Information, "Backup {Id} complete: {Bytes} bytes in {Seconds:0.0}s")]
    public static partial void RunComplete(ILogger logger, string id, long bytes, double seconds);

    [LoggerMessage(4005, LogLevel.Information, "Retention removed backup {Id} from {Destination}")]
    public static partial void Removed(ILogger logger, string id, string destination);

    [LoggerMessage(4006, LogLevel.Warning, "Backup note: {Note}")]
    public static partial void Note(ILogger logger, string note);

    [LoggerMessage(4007, LogLevel.Error, "Off-site copy of backup {Id} to {Path} failed (the local backup is kept; sent at the next run): {Cause}")]
    public static partial void OffsiteFailed(ILogger logger, string id, string path, string cause);

    [LoggerMessage(4008, LogLevel.Information, "Off-site copy of backup {Id} written to {Path} in {Seconds:0.00}s")]
    public static partial void OffsiteDone(ILogger logger, string id, string path, double seconds);

    [LoggerMessage(4009, LogLevel.Warning, "Removed leftover {Path} of an interrupted run")]
    public static partial void LeftoverRemoved(ILogger logger, string path);

    [LoggerMessage(4010, LogLevel.Warning, "Retention could not remove backup {Id}: {Cause}")]
    public static partial void RetentionFailed(ILogger logger, string id, string cause);

    [LoggerMessage(4011, LogLevel.Information, "Next scheduled {Job} at {Next:o}")]
    public static partial void NextRun(ILogger logger, string job, DateTimeOffset next);

    [LoggerMessage(4012, LogLevel.Error, "Scheduled {Job} crashed: {Cause}")]
    public static partial void ScheduledCrashed(ILogger logger, string job, string cause);

    [LoggerMessage(4013, LogLevel.Warning, "Cannot read the backup destination {Destination}: {Cause}")]
    public static partial void StoreUnreadable(ILogger logger, string destination, string cause);

    [LoggerMessage(4014, LogLevel.Information, "Restore test of backup {Id} passed: {Databases} databases, {Tables} tables, every row count as dumped")]
    public static partial void RestoreTestPassed(ILogger logger, string id, int databases, int tables);

    [LoggerMessage(4015, LogLevel.Error, "Restore test of backup {Id} FAILED ({Count} problems), first: {First}")]
    public static partial void RestoreTestFailed(ILogger logger, string id, int count, string first);

    [LoggerMessage(4016, LogLevel.Error, "Off-site retention at {Path} failed (every copy arrived; retried at the next run): {Cause}")]
    public static partial void OffsitePruneFailed(ILogger logger, string path, string cause);

    [LoggerMessage(4017, LogLevel.Error, "Retention removed backup {Id}, which is NOT off-site yet: {Destination} has less than backup.min_free ({MinFree} bytes) free")]
    public static partial void UnsentRemoved(ILogger logger, string id, string destination, long minFree);

    [LoggerMessage(4018, LogLevel.Information, "Kept backup {Id} past retention: not off-site yet")]
    public static partial void KeptUnsent(ILogger logger, string id);

    [LoggerMessage(4019, LogLevel.Information, "Backing up {Kind} on change: watching {Folders} ({How}, and a look every 20 s)")]
    public static partial void WatchingChanges(ILogger logger, string kind, string folders, string how);

    [LoggerMessage(4020, LogLevel.Information, "{Kind} changed on disk: taking a backup of it")]
    public static partial void SourceChanged(ILogger logger, string kind);

    [LoggerMessage(4021, LogLevel.Warning, "Cannot watch {Folder} for changes (the look every 20 s goes on): {Cause}")]
    public static partial void WatchFailed(ILogger logger, string folder, string cause);

    [LoggerMessage(4022, LogLevel.Information, "Scheduled backup of this host's own files ({Kinds}): the leader takes the dump")]
    public static partial void OwnHostKindsOnly(ILogger logger, string kinds);

    /// <summary>One line per backup retention removed, or could not remove, at the destination or off-site.</summary>
    public static void Retention(ILogger logger, string where, List<string> removed, List<(string Id, string Cause)> failed)
    {
        foreach (var id in removed)
        {
            Removed(logger, id, where);
        }

        foreach (var (id, cause) in failed)
        {
            RetentionFailed(logger, id, cause);
        }
    }
}
