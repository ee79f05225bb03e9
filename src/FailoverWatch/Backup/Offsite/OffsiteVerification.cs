using FailoverWatch.Backup.Restore;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.Backup.Offsite;

/// <summary>
/// <c>verify --offsite</c>: <c>restic check</c>, and with a restore, the newest FailoverWatch snapshot restored into a
/// temporary folder and every file re-hashed against the manifest it brought back.
/// </summary>
internal static class OffsiteVerification
{
    public static async Task<List<string>> RunAsync(ResticOffsiteTarget restic, bool restore, Action<string> progress, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        try
        {
            await restic.CheckAsync(readData: false, cancellationToken);
            progress($"{restic.Name}: restic check passed");
            if (!restore)
            {
                return problems;
            }

            var newest = (await restic.SnapshotsAsync(cancellationToken)).LastOrDefault();
            if (newest is null)
            {
                problems.Add($"{restic.Name}: no snapshot tagged {ResticOffsiteTarget.Tag}");
                return problems;
            }

            var scratch = Directory.CreateTempSubdirectory("failoverwatch-offsite-").FullName;
            try
            {
                await restic.RestoreAsync(newest, scratch, cancellationToken);
                var manifest = await ManifestJson.ReadAsync(Path.Combine(scratch, BackupManifest.FileName), cancellationToken);
                if (manifest.Id != newest.BackupId)
                {
                    problems.Add($"snapshot {newest.SnapshotId} is tagged {newest.BackupId} but holds the manifest of {manifest.Id}");
                }

                problems.AddRange(await BackupVerifier.VerifyAsync(scratch, manifest.Files, cancellationToken));
                progress($"{newest.BackupId}: restored from {restic.Name}, {manifest.Files.Count} entries checked, {problems.Count} problems");
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.Text.Json.JsonException or InvalidDataException)
        {
            problems.Add(e.Message);
        }

        return problems;
    }
}
