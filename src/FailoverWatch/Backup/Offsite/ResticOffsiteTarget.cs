using System.Text.Json;
using FailoverWatch.Backup.Store;
using FailoverWatch.Configuration;

namespace FailoverWatch.Backup.Offsite;

/// <summary>
/// A restic repository: one snapshot per backup, taken inside the backup's folder so it mirrors the local layout and
/// <c>restic restore</c> alone gives a backup back that <c>verify</c> and <c>restore</c> read. Tagged
/// <c>failoverwatch</c>, the backup id and <c>kind=</c> each kind; only snapshots tagged <c>failoverwatch</c> are ever
/// read or forgotten. The previous snapshot is the parent, so unchanged (hard-linked) media is not read again, and the
/// dump is zstd <c>--rsyncable</c> with a restic target, so restic's chunks line up from one day's dump to the next.
/// Monitors may share one repository: each snapshot carries its host (<c>--host</c> and the tag <c>host=NAME</c>), and a
/// monitor lists, parents and forgets its own host's snapshots alone, by id (never <c>forget --keep-*</c>), so one
/// host's retention never removes another's snapshots and another host's newer backup never passes for ours.
/// </summary>
/// <param name="host">This monitor's host (<see cref="BackupHost"/>).</param>
/// <param name="partialsFile">
/// Where partial snapshots that could not be forgotten are listed (a dot file in the local destination): left out of
/// every listing, so none passes for a backup's copy, and forgotten again before each run until it works.
/// </param>
internal sealed class ResticOffsiteTarget(ResticCommand restic, string host, string? partialsFile = null) : IOffsiteTarget
{
    public const string Tag = "failoverwatch";
    private const string KindTagPrefix = "kind=";
    private const string HostTagPrefix = "host=";

    // Every restic start opens the repository (a key derivation, then the index): the run's one listing is kept and
    // extended with each snapshot sent, instead of listing again for the parent and for retention.
    private List<Snapshot>? _known;

    public string Name => restic.DisplayRepository;

    /// <summary>One FailoverWatch snapshot: restic's id, the backup id, its kinds, restic's time.</summary>
    public sealed record Snapshot(string SnapshotId, string BackupId, IReadOnlyList<string> Kinds, DateTimeOffset Time);

    public async Task<IReadOnlyList<Snapshot>> SnapshotsAsync(CancellationToken cancellationToken)
    {
        var result = await restic.RunAsync(["snapshots", "--json", "--tag", Tag], cancellationToken);
        var partials = Partials();
        using var json = JsonDocument.Parse(result.StandardOutput);
        var snapshots = new List<Snapshot>();
        foreach (var element in json.RootElement.EnumerateArray())
        {
            var tags = element.TryGetProperty("tags", out var t) ? t.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [];
            if (tags.FirstOrDefault(BackupStore.IsId) is { } backupId && HostOf(element, tags) == host && !partials.Contains(element.GetProperty("id").GetString()!))
            {
                var kinds = tags.Where(x => x.StartsWith(KindTagPrefix, StringComparison.Ordinal)).Select(x => x[KindTagPrefix.Length..]).ToList();
                snapshots.Add(new Snapshot(element.GetProperty("id").GetString()!, backupId, kinds, element.GetProperty("time").GetDateTimeOffset()));
            }
        }

        return snapshots.OrderBy(s => s.BackupId, StringComparer.Ordinal).ThenBy(s => s.Time).ToList();
    }

    /// <summary><c>restic unlock</c>: a restic killed at backup.offsite.restic.timeout leaves its lock, which would block every later run.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        await restic.RunAsync(["unlock"], cancellationToken);
        var partials = Partials();
        if (partials.Count > 0 && (await restic.RunUncheckedAsync(["forget", .. partials], cancellationToken)).Succeeded)
        {
            File.Delete(partialsFile!);
        }
    }

    public async Task<IReadOnlyList<RetentionPolicy.Candidate>> ListAsync(CancellationToken cancellationToken)
    {
        _known = [.. await SnapshotsAsync(cancellationToken)];
        return Candidates(_known);
    }

    public async Task SendAsync(string directory, BackupManifest manifest, CancellationToken cancellationToken)
    {
        _known ??= [.. await SnapshotsAsync(cancellationToken)];
        var parent = _known.LastOrDefault();
        List<string> arguments = ["backup", "--json", "--host", host, "--tag", Tag, "--tag", manifest.Id, "--tag", HostTagPrefix + host, .. manifest.Kinds.SelectMany(k => new[] { "--tag", KindTagPrefix + k })];
        // Unchanged media are hard links: same inode, same mtime, but a new ctime (the link count changed).
        arguments.AddRange(parent is null ? [] : ["--parent", parent.SnapshotId, "--ignore-ctime"]);
        arguments.Add(".");
        var result = await restic.RunUncheckedAsync(arguments, cancellationToken, directory);
        if (!result.Succeeded)
        {
            // Exit 3: a snapshot was written without some files. It must not count as this backup's copy.
            if (SnapshotIdOf(result.StandardOutput) is { } partial
                && await restic.RunUncheckedAsync(["forget", partial], cancellationToken) is { Succeeded: false } forget)
            {
                // Still tagged with the backup id, it would pass for the copy at the next listing: listed apart, and said.
                _known = null;
                if (partialsFile is not null)
                {
                    await File.AppendAllTextAsync(partialsFile, partial + "\n", cancellationToken);
                }

                throw new InvalidOperationException(
                    $"{restic.Failure(result).Message}; the partial snapshot {partial} could not be forgotten and would pass for backup {manifest.Id}'s copy: {restic.Failure(forget).Message}");
            }

            throw restic.Failure(result);
        }

        if (SnapshotIdOf(result.StandardOutput) is { } sent)
        {
            _known.Add(new Snapshot(sent, manifest.Id, manifest.Kinds, manifest.FinishedAt));
        }
        else
        {
            _known = null;
        }
    }

    public async Task<(List<string> Removed, List<(string Id, string Cause)> Failed)> ApplyRetentionAsync(RetentionOptions retention, CancellationToken cancellationToken)
    {
        var snapshots = _known ?? await SnapshotsAsync(cancellationToken);
        _known = null;
        var doomed = RetentionPolicy.Delete(Candidates(snapshots), retention).ToHashSet(StringComparer.Ordinal);
        if (doomed.Count > 0)
        {
            await restic.RunAsync(["forget", "--prune", .. snapshots.Where(s => doomed.Contains(s.BackupId)).Select(s => s.SnapshotId)], cancellationToken);
        }

        return ([.. doomed.Order(StringComparer.Ordinal)], []);
    }

    private HashSet<string> Partials() =>
        partialsFile is not null && File.Exists(partialsFile)
            ? [.. File.ReadAllLines(partialsFile).Where(l => l.Length > 0)]
            : [];

    /// <summary><c>restic check</c>: the repository's structure and, with <paramref name="readData"/>, every pack's content.</summary>
    public Task CheckAsync(bool readData, CancellationToken cancellationToken) =>
        restic.RunAsync(readData ? ["check", "--read-data"] : ["check"], cancellationToken);

    public Task RestoreAsync(Snapshot snapshot, string target, CancellationToken cancellationToken) =>
        restic.RunAsync(["restore", snapshot.SnapshotId, "--target", target], cancellationToken);

    // A backup id sent twice (a retried send) is one candidate: the kinds are the same.
    private static List<RetentionPolicy.Candidate> Candidates(IReadOnlyList<Snapshot> snapshots) =>
        snapshots.GroupBy(s => s.BackupId, StringComparer.Ordinal).Select(g => new RetentionPolicy.Candidate(g.Key, g.Last().Kinds)).ToList();

    /// <summary>The host=NAME tag; a snapshot from before host tags belongs to the host restic recorded (then the only writer, the leader).</summary>
    private static string? HostOf(JsonElement snapshot, List<string> tags) =>
        tags.FirstOrDefault(t => t.StartsWith(HostTagPrefix, StringComparison.Ordinal))?[HostTagPrefix.Length..]
        ?? (snapshot.TryGetProperty("hostname", out var hostname) ? hostname.GetString() : null);

    private static string? SnapshotIdOf(string jsonLines)
    {
        foreach (var line in jsonLines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Reverse())
        {
            try
            {
                using var json = JsonDocument.Parse(line);
                if (json.RootElement.TryGetProperty("snapshot_id", out var id))
                {
                    return id.GetString();
                }
            }
            catch (JsonException)
            {
                // Not every line is JSON (warnings); the summary is.
            }
        }

        return null;
    }
}
