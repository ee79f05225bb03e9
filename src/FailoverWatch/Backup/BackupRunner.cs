using FailoverWatch.Storage;
using System.Diagnostics;
using FailoverWatch.Configuration;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Logging;
using FailoverWatch.Backup.Offsite;
using FailoverWatch.Backup.Steps;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.Backup;

/// <summary>
/// One backup run: every step writes into <c>.tmp-&lt;id&gt;</c> under the destination; <c>manifest.json</c> is written and
/// everything flushed to disk; one rename publishes the folder as <c>&lt;id&gt;</c>. A failure removes the temporary folder,
/// deletes nothing else, counts <c>backup_failures_total</c> and logs the step and the cause. A kind that fails is left
/// out and named in the manifest; the kinds that worked are published as a normal backup. Retention and the off-site
/// copy happen only after a publish.
/// </summary>
/// <param name="host">The host its off-site snapshots are tagged with (<see cref="BackupHost"/>); the machine's name when not given.</param>
internal sealed class BackupRunner(
    BackupOptions options,
    IReadOnlyList<IBackupStep> steps,
    FailoverWatchMetrics metrics,
    BackupStatusBoard statusBoard,
    TimeProvider timeProvider,
    ILogger logger,
    string? host = null)
{
    private const string LockFileName = ".lock";

    /// <summary><c>backup_failures_total</c>'s kind for a backup removed before it was off-site, for want of backup.min_free.</summary>
    public const string MinFreeKind = "min_free";
    private static readonly string Version = typeof(BackupRunner).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
    private static readonly Lock IdClaims = new();
    private static readonly TimeSpan KindLockPoll = TimeSpan.FromMilliseconds(200);
    private readonly OffsiteSync? _offsite = OffsiteSync.From(options, host ?? Environment.MachineName, metrics, statusBoard, logger);

    public IReadOnlyList<IBackupStep> Steps => steps;

    /// <summary>The off-site sync, or null without a target.</summary>
    public OffsiteSync? Offsite => _offsite;

    public async Task<BackupRunResult> RunAsync(IReadOnlySet<string>? only, Action<StepProgress>? progress, CancellationToken cancellationToken)
    {
        var chosen = steps.Where(s => only is null || only.Contains(s.Kind)).ToList();
        var started = timeProvider.GetUtcNow();
        var id = BackupStore.IdFor(started);
        foreach (var step in chosen)
        {
            metrics.BackupFailures.Touch(step.Kind);
        }

        if (chosen.Count == 0)
        {
            return Fail(id, "run", $"nothing to back up: none of {string.Join(",", only ?? new HashSet<string>())} is configured", chosen);
        }

        using var activity = FailoverWatchActivity.Source.StartActivity("backup");
        activity?.SetTag("backup.id", id);
        return await RunLockedAsync(id, started, chosen, progress, cancellationToken);
    }

    private async Task<BackupRunResult> RunLockedAsync(string id, DateTimeOffset started, List<IBackupStep> chosen, Action<StepProgress>? progress, CancellationToken cancellationToken)
    {
        var store = new BackupStore(options.Destination);
        FileStream runLock;
        string temp;
        IReadOnlyList<(string Id, BackupManifest Manifest)> previous;
        try
        {
            Directory.CreateDirectory(options.Destination, DurableFiles.OwnerOnlyDirectory);
            RemoveLeftoversWhenIdle(store);
            // A shared flock for the run: runs of other kinds (a renewed certificate during the nightly dump) go on side by
            // side; each kind has its own lock while its step runs (KindLockAsync), and leftovers go only when no run is on.
            runLock = new FileStream(Path.Combine(options.Destination, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
            previous = await store.NewestFirstAsync(cancellationToken);
            (id, temp) = ClaimId(store, id, started);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            return Fail(id, "run", $"destination {options.Destination}: {e.Message}", chosen);
        }

        await using (runLock)
        {
            BackupLog.RunStarted(logger, id, string.Join(",", chosen.Select(s => s.Kind)));
            var total = timeProvider.GetTimestamp();
            var outcomes = new List<(IBackupStep Step, StepOutcome Outcome, TimeSpan Elapsed)>();
            var failed = new List<FailedKind>();
            foreach (var step in chosen)
            {
                using var activity = FailoverWatchActivity.Source.StartActivity($"backup {step.Kind}");
                activity?.SetTag("backup.kind", step.Kind);
                var clock = timeProvider.GetTimestamp();
                // The newest backup that has this kind: after a `--only postgres` run, media still links against the last media copy.
                var (previousId, previousManifest) = previous.FirstOrDefault(b => b.Manifest.Kinds.Contains(step.Kind));
                var context = new BackupStepContext(temp, step.Kind, previousManifest, previousId is null ? null : store.PathOf(previousId));
                try
                {
                    StepOutcome outcome;
                    await using (await KindLockAsync(step.Kind, cancellationToken))
                    {
                        outcome = await step.RunAsync(context, cancellationToken);
                    }

                    outcomes.Add((step, outcome, timeProvider.GetElapsedTime(clock)));
                    activity?.SetTag("backup.bytes_written", outcome.BytesWritten);
                    activity?.SetTag("backup.files", outcome.Files);
                    BackupLog.StepDone(logger, step.Kind, outcome.BytesWritten, outcome.Files, timeProvider.GetElapsedTime(clock).TotalSeconds);
                    if (outcome is { NoteIsWarning: true, Note: { } note })
                    {
                        BackupLog.Note(logger, note);
                    }

                    progress?.Invoke(new StepProgress(step.Kind, outcome.BytesWritten, outcome.TotalBytes, outcome.Files, timeProvider.GetElapsedTime(clock), outcome.Note));
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    // One kind failing never costs the others (an unreadable renewed key must not cost the dump): its
                    // half-written folder goes, the manifest names it, and the run goes on.
                    activity?.SetStatus(ActivityStatusCode.Error, e.Message);
                    RemoveQuietly(context.KindDirectory);
                    failed.Add(new FailedKind(step.Kind, e.Message));
                    Fail(id, step.Kind, e.Message, [step]);
                }
                catch (Exception e)
                {
                    activity?.SetStatus(ActivityStatusCode.Error, e.Message);
                    RemoveQuietly(temp);
                    return Fail(id, step.Kind, "cancelled", [step]);
                }
            }

            if (outcomes.Count == 0)
            {
                // Nothing worked: no backup of nothing, and nothing for retention to count.
                RemoveQuietly(temp);
                return new BackupRunResult(id, false, failed[0].Kind, failed[0].Reason) { FailedKinds = failed };
            }

            BackupManifest manifest;
            try
            {
                manifest = await PublishAsync(id, started, temp, outcomes, failed, store, cancellationToken);
            }
            catch (Exception e)
            {
                RemoveQuietly(temp);
                return Fail(id, "publish", e.Message, outcomes.Select(o => o.Step));
            }

            var finished = timeProvider.GetUtcNow();
            foreach (var (step, outcome, elapsed) in outcomes)
            {
                var at = manifest.DataTimeOf(step.Kind, finished);
                metrics.BackupLastSuccess.SetTime(at, step.Kind);
                metrics.BackupDuration.Set(elapsed.TotalSeconds, step.Kind);
                metrics.BackupSize.Set(outcome.TotalBytes, step.Kind);
                statusBoard.RecordSuccess(step.Kind, at);
            }

            BackupLog.RunComplete(logger, id, manifest.TotalBytes, timeProvider.GetElapsedTime(total).TotalSeconds);
            // Off-site first: local retention then knows which backups are not off-site yet, and keeps them.
            var offsite = _offsite is null ? null : await _offsite.RunAsync(store, cancellationToken);
            var removed = await ApplyRetentionAsync(store, offsite?.Present, cancellationToken);
            var result = failed.Count == 0
                ? new BackupRunResult(id, true) { Manifest = manifest, Removed = removed }
                : new BackupRunResult(id, false, failed[0].Kind, failed[0].Reason) { Manifest = manifest, Removed = removed, FailedKinds = failed };
            if (result.Succeeded && offsite is { CopyError: { } copyError })
            {
                // The local backup stands: published, kept, and its copy retried at the next run.
                return result with { Succeeded = false, FailedStep = OffsiteSync.Kind, Error = copyError };
            }

            if (result.Succeeded && offsite is { PruneError: { } pruneError })
            {
                return result with { Succeeded = false, FailedStep = OffsiteSync.PruneKind, Error = pruneError };
            }

            return result;
        }
    }

    private async Task<BackupManifest> PublishAsync(
        string id, DateTimeOffset started, string temp, List<(IBackupStep Step, StepOutcome Outcome, TimeSpan Elapsed)> taken, List<FailedKind> failed, BackupStore store,
        CancellationToken cancellationToken)
    {
        var outcomes = taken.ConvertAll(t => t.Outcome);
        var manifest = new BackupManifest
        {
            Id = id,
            StartedAt = started,
            FinishedAt = timeProvider.GetUtcNow(),
            FailoverwatchVersion = Version,
            Kinds = taken.ConvertAll(t => t.Step.Kind),
            Failed = failed.Count == 0 ? null : failed,
            MediaInObjectStorage = outcomes.Select(o => o.MediaInObjectStorage).FirstOrDefault(m => m is not null),
            Postgres = outcomes.Select(o => o.Postgres).FirstOrDefault(p => p is not null),
            Redis = outcomes.Select(o => o.Redis).FirstOrDefault(r => r is not null),
            Notes = outcomes.Select(o => o.Note).OfType<string>().ToList(),
            Files = outcomes.SelectMany(o => o.Entries).ToList(),
        };

        // Every file of the run reaches the disk (one syncfs, not an fsync per media file) before the manifest that vouches for them.
        DurableFiles.SyncFilesystem(temp);
        await DurableFiles.WriteAllBytesAsync(Path.Combine(temp, BackupManifest.FileName), ManifestJson.Serialize(manifest), DurableFiles.OwnerOnly, cancellationToken);
        DurableFiles.FsyncDirectory(temp);
        Directory.Move(temp, store.PathOf(id));
        DurableFiles.FsyncDirectory(options.Destination);
        return manifest;
    }

    /// <param name="offsite">The ids the off-site target holds, or null without one: then nothing is held back.</param>
    private async Task<List<string>> ApplyRetentionAsync(BackupStore store, IReadOnlySet<string>? offsite, CancellationToken cancellationToken)
    {
        // Sent oldest first, so what is older than the newest copy there was sent (and maybe forgotten there since);
        // what is newer is not off-site yet. Nothing known there (listing failed): every backup counts as unsent.
        var newestThere = offsite?.Max(StringComparer.Ordinal);
        var unsent = offsite is null
            ? null
            : store.CompleteIds().Where(id => newestThere is null || string.CompareOrdinal(id, newestThere) > 0).ToHashSet(StringComparer.Ordinal);
        var (removed, failed, removedUnsent) = await store.ApplyRetentionAsync(options.Retention, unsent, options.MinFree.Bytes, cancellationToken);
        BackupLog.Retention(logger, store.Destination, removed, failed);
        foreach (var id in removedUnsent)
        {
            BackupLog.UnsentRemoved(logger, id, store.Destination, options.MinFree.Bytes);
            metrics.BackupFailures.Inc(MinFreeKind);
        }

        var kept = unsent is null ? [] : RetentionPolicy.Delete(await store.RetentionCandidatesAsync(cancellationToken), options.Retention).Where(unsent.Contains);
        foreach (var id in kept)
        {
            BackupLog.KeptUnsent(logger, id);
        }

        return removed;
    }

    /// <summary>Whether a run, of this process or another, holds the shared run lock of <paramref name="destination"/>.</summary>
    internal static bool AnyRunning(string destination)
    {
        if (!Directory.Exists(destination))
        {
            return false;
        }

        try
        {
            using var idle = new FileStream(Path.Combine(destination, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Leftovers of killed runs are removed only while no run holds the shared lock: else they may be another run's.</summary>
    private void RemoveLeftoversWhenIdle(BackupStore store)
    {
        FileStream idle;
        try
        {
            idle = new FileStream(Path.Combine(options.Destination, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return;
        }

        using (idle)
        {
            foreach (var leftover in store.Leftovers().ToList())
            {
                RemoveQuietly(leftover);
                BackupLog.LeftoverRemoved(logger, leftover);
            }
        }
    }

    /// <summary>
    /// The run's id and temporary folder: its start second, or the next free one when a run of other kinds started in
    /// the same second (ids are per second).
    /// </summary>
    private static (string Id, string Temp) ClaimId(BackupStore store, string id, DateTimeOffset started)
    {
        lock (IdClaims)
        {
            var at = started;
            while (Directory.Exists(store.PathOf(id)) || Directory.Exists(TempOf(store, id)))
            {
                at = at.AddSeconds(1);
                id = BackupStore.IdFor(at);
            }

            Directory.CreateDirectory(TempOf(store, id), DurableFiles.OwnerOnlyDirectory);
            return (id, TempOf(store, id));
        }
    }

    private static string TempOf(BackupStore store, string id) => Path.Combine(store.Destination, BackupStore.TempPrefix + id);

    /// <summary>An flock of <c>.lock-KIND</c> while that kind's step runs: two runs never take the same kind at once, across processes too.</summary>
    private async Task<FileStream> KindLockAsync(string kind, CancellationToken cancellationToken)
    {
        var path = Path.Combine(options.Destination, LockFileName + "-" + kind);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Held by another run's step of this kind (seconds for certs or secrets): a poll of the lock, not of a clock.
                await Task.Delay(KindLockPoll, cancellationToken);
            }
        }
    }

    private BackupRunResult Fail(string id, string step, string cause, IEnumerable<IBackupStep> failedKinds)
    {
        BackupLog.StepFailed(logger, id, step, cause);
        foreach (var kind in failedKinds)
        {
            metrics.BackupFailures.Inc(kind.Kind);
        }

        return new BackupRunResult(id, false, step, cause);
    }

    private static void RemoveQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A temporary folder that cannot be removed (read-only or full destination) never looks like a backup; the next run removes it.
        }
    }
}
