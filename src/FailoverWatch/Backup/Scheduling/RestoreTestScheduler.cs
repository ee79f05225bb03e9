using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Logging;
using FailoverWatch.Backup.Restore;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.Backup.Scheduling;

/// <summary>
/// At each <c>backup.restore_test_schedule</c> occurrence, the newest complete backup holding a dump is verified and its
/// dump restored into a scratch PostgreSQL, every row count compared with the dump's: a backup nobody has restored is
/// a hope, not a backup. The outcome goes to the metrics, the log and the backup's <c>verified.json</c>.
/// </summary>
internal sealed class RestoreTestScheduler(BackupOptions options, FailoverWatchMetrics metrics, TimeProvider timeProvider, ILogger<RestoreTestScheduler> logger, IMonitorLeadership? leadership = null)
    : CronService(options.RestoreTestSchedule!, timeProvider, logger, leadership)
{
    // Bounds the search for a backup with a dump when recent runs were of other kinds only.
    private const int BackupsToSearch = 30;

    protected override string JobName => "restore test";

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Present from the start, so increase() sees the first failure.
        metrics.RestoreTestFailures.Touch(BackupKinds.Postgres);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task RunJobAsync(CancellationToken cancellationToken)
    {
        using var activity = FailoverWatchActivity.Source.StartActivity("backup.restore_test");
        string? id = null;
        try
        {
            var store = new BackupStore(options.Destination);
            BackupManifest? manifest = null;
            foreach (var candidate in store.CompleteIds().Reverse().Take(BackupsToSearch))
            {
                manifest = await store.ReadManifestAsync(candidate, cancellationToken);
                if (manifest.Postgres is not null)
                {
                    id = candidate;
                    break;
                }
            }

            if (id is null || manifest?.Postgres is not { } dump)
            {
                throw new InvalidOperationException($"no complete backup with a postgres dump among the newest {BackupsToSearch} in {options.Destination}");
            }

            activity?.SetTag("backup.id", id);
            var (record, _, _) = await BackupVerification.RunAsync(store.PathOf(id), manifest, options, Time, cancellationToken);
            if (record.Ok)
            {
                metrics.RestoreTestLastSuccess.SetTime(record.VerifiedAt, BackupKinds.Postgres);
                BackupLog.RestoreTestPassed(Logger, id, dump.Databases.Count, dump.Databases.Sum(d => d.Tables.Count));
            }
            else
            {
                Failed(id, record.Problems.Count, record.Problems[0]);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Failed(id ?? "(none)", 1, e.Message);
        }
    }

    private void Failed(string id, int count, string first)
    {
        metrics.RestoreTestFailures.Inc(BackupKinds.Postgres);
        BackupLog.RestoreTestFailed(Logger, id, count, first);
    }
}
