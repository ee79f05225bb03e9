using FailoverWatch.Configuration;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.Backup.Scheduling;

/// <summary>
/// Keeps the last-success gauges and <c>/status</c> true for backups this process did not take: those from before a
/// restart (else "backup too old" could not fire for a host restarted after its backups stopped) and those taken by
/// <c>failoverwatch backup</c> from cron. Lists the destination every minute and reads manifests only when a newer
/// backup has appeared. With scheduled restore tests, the last passed one is taken from the backups' <c>verified.json</c>
/// at start, for the same reason, and the off-site gauge from what the target holds.
/// </summary>
internal sealed class BackupStoreWatcher(
    BackupOptions options,
    BackupRunner runner,
    FailoverWatchMetrics metrics,
    BackupStatusBoard board,
    TimeProvider time,
    ILogger<BackupStoreWatcher> logger) : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromMinutes(1);

    // A kind dropped from the configuration long ago must not send us through every manifest of the destination.
    private const int ManifestsToRead = 30;

    private string? _newestSeen;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every, time);
        try
        {
            if (options.RestoreTestSchedule is not null)
            {
                await SeedRestoreTestAsync(stoppingToken);
            }

            if (runner.Offsite is { } offsite)
            {
                await offsite.SeedAsync(new BackupStore(options.Destination), stoppingToken);
            }

            do
            {
                await RefreshAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    internal async Task SeedRestoreTestAsync(CancellationToken cancellationToken)
    {
        var store = new BackupStore(options.Destination);
        try
        {
            foreach (var id in store.CompleteIds().Reverse().Take(ManifestsToRead))
            {
                if (await store.ReadVerificationAsync(id, cancellationToken) is { Ok: true, RestoreTested: true } passed)
                {
                    metrics.RestoreTestLastSuccess.SetTime(passed.VerifiedAt, BackupKinds.Postgres);
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            BackupLog.StoreUnreadable(logger, options.Destination, e.Message);
        }
    }

    /// <summary>Publishes, per configured kind, the finish time of the newest complete backup holding it.</summary>
    internal async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var store = new BackupStore(options.Destination);
        IReadOnlyList<string> ids;
        try
        {
            ids = store.CompleteIds();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            BackupLog.StoreUnreadable(logger, options.Destination, e.Message);
            return;
        }

        if (ids.Count == 0 || ids[^1] == _newestSeen)
        {
            return;
        }

        var missing = runner.Steps.Select(s => s.Kind).ToHashSet(StringComparer.Ordinal);
        // Lazily read: the walk stops at the first manifest that leaves no configured kind without a time.
        var toRead = missing.Count == 0 ? [] : ids.Reverse().Take(ManifestsToRead);
        await foreach (var (_, manifest) in store.ReadableManifestsAsync(toRead, cancellationToken))
        {
            foreach (var kind in manifest.Kinds.Where(missing.Remove))
            {
                var at = manifest.DataTimeOf(kind, manifest.FinishedAt);
                if (board.RecordIfNewer(kind, at))
                {
                    metrics.BackupLastSuccess.SetTime(at, kind);
                }
            }

            if (missing.Count == 0)
            {
                break;
            }
        }

        _newestSeen = ids[^1];
    }
}
