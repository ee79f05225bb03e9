using System.Diagnostics;
using FailoverWatch.Backup.Store;
using FailoverWatch.Configuration;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Backup.Offsite;

/// <summary>
/// After a local run: every complete local backup the target does not have yet is sent, oldest first (so one missed
/// night is caught up by the next run), then the target's retention. A failure never touches the local backups: it is
/// counted (<c>backup_failures_total{kind="offsite"}</c>, or <c>offsite_prune</c> when only the target's retention
/// failed and the copies arrived), logged with the tool's own message, and the rest waits for the next run. What the
/// target holds is returned, so local retention keeps every backup not off-site yet.
/// </summary>
internal sealed class OffsiteSync(IOffsiteTarget target, RetentionOptions retention, FailoverWatchMetrics metrics, BackupStatusBoard board, ILogger logger)
{
    public const string Kind = "offsite";
    public const string PruneKind = "offsite_prune";

    public IOffsiteTarget Target => target;

    /// <summary>How a sync went: the first copy failure, a retention failure there (copies arrived), and the backup ids the target holds.</summary>
    public sealed record Outcome(string? CopyError, string? PruneError, IReadOnlySet<string> Present);

    public static OffsiteSync? From(BackupOptions options, string host, FailoverWatchMetrics metrics, BackupStatusBoard board, ILogger logger) =>
        OffsiteTargets.From(options.Offsite, options.Destination, host) is { } target ? new OffsiteSync(target, options.Retention, metrics, board, logger) : null;

    public async Task<Outcome> RunAsync(BackupStore local, CancellationToken cancellationToken)
    {
        metrics.BackupFailures.Touch(Kind);
        metrics.BackupFailures.Touch(PruneKind);
        var present = new HashSet<string>(StringComparer.Ordinal);
        var current = "(listing)";
        try
        {
            await target.PrepareAsync(cancellationToken);
            present.UnionWith((await target.ListAsync(cancellationToken)).Select(c => c.Id));
            var localIds = local.CompleteIds();
            await foreach (var (id, manifest) in local.ReadableManifestsAsync(localIds.Where(id => !present.Contains(id)), cancellationToken))
            {
                current = id;
                var clock = Stopwatch.StartNew();
                await target.SendAsync(local.PathOf(id), manifest, cancellationToken);
                BackupLog.OffsiteDone(logger, id, target.Name, clock.Elapsed.TotalSeconds);
                present.Add(id);
                if (id == localIds[^1])
                {
                    RecordSuccess(manifest.FinishedAt);
                }
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            BackupLog.OffsiteFailed(logger, current, target.Name, e.Message);
            metrics.BackupFailures.Inc(Kind);
            return new Outcome(e.Message, null, present);
        }

        try
        {
            var (removed, failed) = await target.ApplyRetentionAsync(retention, cancellationToken);
            BackupLog.Retention(logger, target.Name, removed, failed);
            return new Outcome(null, null, present);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // The copies arrived: only the target's retention waits for the next run.
            BackupLog.OffsitePruneFailed(logger, target.Name, e.Message);
            metrics.BackupFailures.Inc(PruneKind);
            return new Outcome(null, e.Message, present);
        }
    }

    /// <summary>At start: the newest backup the target holds sets the off-site last-success gauge, so it is not empty until the next run.</summary>
    public async Task SeedAsync(BackupStore local, CancellationToken cancellationToken)
    {
        try
        {
            var newest = (await target.ListAsync(cancellationToken)).Select(c => c.Id).Max(StringComparer.Ordinal);
            if (newest is null)
            {
                return;
            }

            // The local manifest's finish time when it is still here; else the id's own time (its start).
            var at = local.CompleteIds().Contains(newest) ? (await local.ReadManifestAsync(newest, cancellationToken)).FinishedAt : BackupStore.TimeOf(newest);
            RecordSuccess(at);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            BackupLog.OffsiteFailed(logger, "(listing at start)", target.Name, e.Message);
        }
    }

    private void RecordSuccess(DateTimeOffset at)
    {
        if (board.RecordIfNewer(Kind, at))
        {
            metrics.BackupLastSuccess.SetTime(at, Kind);
        }
    }
}
