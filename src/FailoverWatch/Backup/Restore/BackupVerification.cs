using FailoverWatch.Configuration;
using FailoverWatch.Storage;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.Backup.Restore;

/// <summary>
/// One verification of one backup, for the <c>verify</c> command and the scheduled restore test alike: every checksum
/// re-hashed, then, if asked and the files are whole, the dump restored into a scratch PostgreSQL and its row counts
/// compared. The outcome is kept beside the manifest (<c>verified.json</c>) where the destination allows.
/// </summary>
internal static class BackupVerification
{
    /// <param name="restoreTest">With a restore test, the backup section (its <c>restore_test_user</c>); null: checksums only.</param>
    public static async Task<BackupVerificationResult> RunAsync(string backupDirectory, BackupManifest manifest, BackupOptions? restoreTest, TimeProvider time, CancellationToken cancellationToken)
    {
        var problems = (await BackupVerifier.VerifyAsync(backupDirectory, manifest.Files, cancellationToken)).ToList();
        var checksumProblems = problems.Count;
        if (restoreTest is not null)
        {
            if (manifest.Postgres is not { } dump)
            {
                problems.Add("restore test: the backup holds no postgres dump");
            }
            else if (checksumProblems == 0)
            {
                problems.AddRange(await PostgresRestoreTest.RunAsync(backupDirectory, dump, restoreTest.RestoreTestUser, cancellationToken, restoreTest.RestoreTestSocket));
            }
        }

        var record = new VerificationRecord(time.GetUtcNow(), problems.Count == 0, restoreTest is not null, problems);
        string? notRecorded = null;
        try
        {
            await DurableFiles.ReplaceAsync(Path.Combine(backupDirectory, BackupStore.VerificationFileName), ManifestJson.Serialize(record), DurableFiles.OwnerOnly, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only copy can still be verified; only the record of it is lost.
            notRecorded = e.Message;
        }

        return new BackupVerificationResult(record, checksumProblems, notRecorded);
    }
}

/// <param name="ChecksumProblems">How many of the record's problems are files that do not match the manifest.</param>
/// <param name="NotRecorded">Why <c>verified.json</c> could not be written, or null when it was.</param>
internal sealed record BackupVerificationResult(VerificationRecord Record, int ChecksumProblems, string? NotRecorded);
