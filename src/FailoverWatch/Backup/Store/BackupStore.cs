using FailoverWatch.Storage;
using System.Globalization;
using FailoverWatch.Configuration;
using System.Text.RegularExpressions;

namespace FailoverWatch.Backup.Store;

/// <summary>
/// The backups under one destination. Only a folder named like <c>20261124T030000Z</c> holding a manifest is a backup;
/// a run writes under <c>.tmp-&lt;id&gt;</c> and a deletion renames to <c>.deleting-&lt;id&gt;</c> first, so neither ever looks whole.
/// </summary>
internal sealed partial class BackupStore(string destination)
{
    public const string IdFormat = "yyyyMMdd'T'HHmmss'Z'";
    public const string TempPrefix = ".tmp-";
    public const string DeletingPrefix = ".deleting-";
    public const string VerificationFileName = "verified.json";

    public string Destination { get; } = destination;

    public static string IdFor(DateTimeOffset time) => time.UtcDateTime.ToString(IdFormat, CultureInfo.InvariantCulture);

    public static DateTimeOffset TimeOf(string id) =>
        DateTimeOffset.ParseExact(id, IdFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static bool IsId(string name) => IdPattern().IsMatch(name);

    public string PathOf(string id) => Path.Combine(Destination, id);

    /// <summary>Complete backups, oldest first.</summary>
    public IReadOnlyList<string> CompleteIds() =>
        !Directory.Exists(Destination)
            ? []
            : Directory.EnumerateDirectories(Destination)
                .Select(Path.GetFileName)
                .OfType<string>()
                .Where(name => IsId(name) && File.Exists(Path.Combine(Destination, name, BackupManifest.FileName)))
                .Order(StringComparer.Ordinal)
                .ToList();

    public Task<BackupManifest> ReadManifestAsync(string id, CancellationToken cancellationToken) =>
        ManifestJson.ReadAsync(Path.Combine(PathOf(id), BackupManifest.FileName), cancellationToken);

    /// <summary>The last <c>verify</c> of a backup, or null when it was never verified.</summary>
    public async Task<VerificationRecord?> ReadVerificationAsync(string id, CancellationToken cancellationToken)
    {
        var path = Path.Combine(PathOf(id), VerificationFileName);
        if (!File.Exists(path))
        {
            return null;
        }

        return await ManifestJson.ReadVerificationAsync(path, cancellationToken);
    }

    public async Task<(string Id, BackupManifest Manifest)?> NewestAsync(CancellationToken cancellationToken)
    {
        var ids = CompleteIds();
        return ids.Count == 0 ? null : (ids[^1], await ReadManifestAsync(ids[^1], cancellationToken));
    }

    /// <summary>Every complete backup with its manifest, newest first; one whose manifest cannot be read is left out.</summary>
    public async Task<IReadOnlyList<(string Id, BackupManifest Manifest)>> NewestFirstAsync(CancellationToken cancellationToken)
    {
        var result = new List<(string Id, BackupManifest Manifest)>();
        await foreach (var backup in ReadableManifestsAsync(CompleteIds().Reverse(), cancellationToken))
        {
            result.Add(backup);
        }

        return result;
    }

    /// <summary>The manifests of <paramref name="ids"/>, in their order, read one at a time as asked for; one that cannot be read is left out.</summary>
    public async IAsyncEnumerable<(string Id, BackupManifest Manifest)> ReadableManifestsAsync(
        IEnumerable<string> ids, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var id in ids)
        {
            BackupManifest manifest;
            try
            {
                manifest = await ReadManifestAsync(id, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidDataException)
            {
                // A damaged manifest only means no hard links against that backup and no last-success time from it;
                // verify reports the damage.
                continue;
            }

            yield return (id, manifest);
        }
    }

    /// <summary>Every complete backup, oldest first, with the kinds it holds for retention (none when its manifest cannot be read).</summary>
    public async Task<IReadOnlyList<RetentionPolicy.Candidate>> RetentionCandidatesAsync(CancellationToken cancellationToken)
    {
        var kinds = (await NewestFirstAsync(cancellationToken)).ToDictionary(b => b.Id, b => b.Manifest.Kinds, StringComparer.Ordinal);
        return CompleteIds().Select(id => new RetentionPolicy.Candidate(id, kinds.GetValueOrDefault(id) ?? [])).ToList();
    }

    /// <summary>Removes what <paramref name="retention"/> does not keep; returns the removed ids, and each failure's cause by id.</summary>
    public async Task<(List<string> Removed, List<(string Id, string Cause)> Failed)> ApplyRetentionAsync(RetentionOptions retention, CancellationToken cancellationToken)
    {
        var (removed, failed, _) = await ApplyRetentionAsync(retention, null, 0, cancellationToken);
        return (removed, failed);
    }

    /// <summary>
    /// Retention that keeps every backup in <paramref name="unsent"/> (not off-site yet) while the destination has
    /// <paramref name="minFree"/> bytes free; below it, the oldest unsent that retention would remove go first, one at a
    /// time until there is room again, and are returned apart so the caller can say so.
    /// </summary>
    public async Task<(List<string> Removed, List<(string Id, string Cause)> Failed, List<string> RemovedUnsent)> ApplyRetentionAsync(
        RetentionOptions retention, IReadOnlySet<string>? unsent, long minFree, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        var failed = new List<(string Id, string Cause)>();
        var removedUnsent = new List<string>();
        var doomed = RetentionPolicy.Delete(await RetentionCandidatesAsync(cancellationToken), retention);
        foreach (var id in doomed.Where(id => unsent?.Contains(id) != true))
        {
            TryDelete(id, removed, failed);
        }

        foreach (var id in doomed.Where(id => unsent?.Contains(id) == true).Order(StringComparer.Ordinal))
        {
            if (FreeBytes() >= minFree)
            {
                break;
            }

            if (TryDelete(id, removed, failed))
            {
                removedUnsent.Add(id);
            }
        }

        return (removed, failed, removedUnsent);
    }

    /// <summary>Bytes free to an unprivileged writer on the destination's filesystem.</summary>
    public long FreeBytes() => new DriveInfo(Destination).AvailableFreeSpace;

    private bool TryDelete(string id, List<string> removed, List<(string Id, string Cause)> failed)
    {
        try
        {
            Delete(id);
            removed.Add(id);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failed.Add((id, e.Message));
            return false;
        }
    }

    /// <summary>Renames first so a half-deleted backup never looks whole, then removes.</summary>
    public void Delete(string id)
    {
        var doomed = Path.Combine(Destination, DeletingPrefix + id);
        Directory.Move(PathOf(id), doomed);
        DurableFiles.FsyncDirectory(Destination);
        Directory.Delete(doomed, recursive: true);
    }

    /// <summary>Leftovers of runs that crashed or were killed: never a backup, safe to remove while the run lock is held.</summary>
    public IEnumerable<string> Leftovers() =>
        !Directory.Exists(Destination)
            ? []
            : Directory.EnumerateDirectories(Destination)
                .Where(d => Path.GetFileName(d) is { } name && (name.StartsWith(TempPrefix, StringComparison.Ordinal) || name.StartsWith(DeletingPrefix, StringComparison.Ordinal)));

    [GeneratedRegex(@"^\d{8}T\d{6}Z$")]
    private static partial Regex IdPattern();
}
