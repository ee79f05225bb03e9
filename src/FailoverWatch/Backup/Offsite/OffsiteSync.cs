using System.Diagnostics;
using FailoverWatch.Backup.Store;
using FailoverWatch.Configuration;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Backup.Offsite;

/// <summary>
/// After a local run: every complete local backup the target does not have yet is sent, oldest first (so one missed
/// night is caught up by the next run), then the target's retention. A failure never touches the local backups: it is
/// counted (<c>backup_failures_total{kind="offsite"}</c>), logged with the tool's own message, and the rest waits for
/// the next run.
/// </summary>
internal sealed class OffsiteSync(IOffsiteTarget target, RetentionOptions retention, FailoverWatchMetrics metrics, BackupStatusBoard board, ILogger logger)
{
    public const string Kind = "offsite";

    public IOffsiteTarget Target => target;

    public static OffsiteSync? From(BackupOptions options, FailoverWatchMetrics metrics, BackupStatusBoard board, ILogger logger) =>
        OffsiteTargets.From(options.Offsite) is { } target ? new OffsiteSync(target, options.Retention, metrics, board, logger) : null;

    /// <summary>Null when every local backup is off-site, else the cause of the first failure.</summary>
    public async Task<string?> RunAsync(BackupStore local, CancellationToken cancellationToken)
    {
        metrics.BackupFailures.Touch(Kind);
        var current = "(listing)";
        try
        {
            var present = (await target.ListAsync(cancellationToken)).Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
            var localIds = local.CompleteIds();
            BackupManifest? newest = null;
            await foreach (var (id, manifest) in local.ReadableManifestsAsync(localIds.Where(id => !present.Contains(id)), cancellationToken))
            {
                current = id;
                var clock = Stopwatch.StartNew();
                await target.SendAsync(local.PathOf(id), manifest, cancellationToken);
                BackupLog.OffsiteDone(logger, id, target.Name, clock.Elapsed.TotalSeconds);
                newest = manifest;
            }

            current = "(retention)";
            var (removed, failed) = await target.ApplyRetentionAsync(retention, cancellationToken);
            BackupLog.Retention(logger, target.Name, removed, failed);
            if (newest is not null && newest.Id == localIds[^1])
            {
                metrics.BackupLastSuccess.SetTime(newest.FinishedAt, Kind);
                board.RecordSuccess(Kind, newest.FinishedAt);
            }

            return null;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            BackupLog.OffsiteFailed(logger, current, target.Name, e.Message);
            metrics.BackupFailures.Inc(Kind);
            return e.Message;
        }
    }
}
