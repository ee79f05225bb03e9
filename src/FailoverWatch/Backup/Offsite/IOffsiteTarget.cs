using FailoverWatch.Backup.Store;
using FailoverWatch.Configuration;

namespace FailoverWatch.Backup.Offsite;

/// <summary>Where complete local backups get a second copy: a mounted folder, or a restic repository.</summary>
internal interface IOffsiteTarget
{
    /// <summary>For logs: the folder, or the repository without any credentials in it.</summary>
    string Name { get; }

    /// <summary>Before each sync: whatever a run killed at its timeout left behind (restic's lock) is cleared.</summary>
    Task PrepareAsync(CancellationToken cancellationToken);

    /// <summary>The backups already there, with their kinds.</summary>
    Task<IReadOnlyList<RetentionPolicy.Candidate>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Sends one complete local backup; throws with the cause when it did not arrive whole.</summary>
    Task SendAsync(string directory, BackupManifest manifest, CancellationToken cancellationToken);

    /// <summary>Removes what the keep rules do not keep, there only.</summary>
    Task<(List<string> Removed, List<(string Id, string Cause)> Failed)> ApplyRetentionAsync(RetentionOptions retention, CancellationToken cancellationToken);
}
