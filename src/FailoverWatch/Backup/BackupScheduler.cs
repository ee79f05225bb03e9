using Cronos;
using FailoverWatch.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Backup;

/// <summary>
/// Runs a backup at each <c>backup.schedule</c> occurrence (cron, UTC). It lives on its own task, awaiting the
/// <see cref="TimeProvider"/>, so a long dump never delays the monitor loop; a crashed run is logged and the schedule goes on
/// (an exception escaping ExecuteAsync would stop the host).
/// </summary>
internal sealed class BackupScheduler(BackupOptions options, BackupRunner runner, TimeProvider timeProvider, ILogger<BackupScheduler> logger) : BackgroundService
{
    private readonly CronExpression _schedule = CronExpression.Parse(options.Schedule!);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            if (NextOccurrence(timeProvider.GetUtcNow()) is not { } next)
            {
                return;
            }

            BackupLog.NextRun(logger, next);
            try
            {
                var wait = next - timeProvider.GetUtcNow();
                var delay = wait > TimeSpan.Zero ? Task.Delay(wait, timeProvider, stoppingToken) : Task.CompletedTask;
                // Published once the timer exists, so whoever moves the clock after seeing it cannot slip past the timer.
                NextScheduled = next;
                await delay;

                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                BackupLog.ScheduledCrashed(logger, e.Message);
            }
        }
    }

    /// <summary>The run the scheduler is waiting for; tests wait for it before moving the clock.</summary>
    internal DateTimeOffset? NextScheduled { get; private set; }

    internal DateTimeOffset? NextOccurrence(DateTimeOffset after) => _schedule.GetNextOccurrence(after, TimeZoneInfo.Utc);

    /// <summary>One scheduled run; tests call it directly.</summary>
    internal Task<BackupRunResult> RunOnceAsync(CancellationToken cancellationToken) =>
        // Yield first so even the synchronous start of a run happens off the caller's thread.
        Task.Run(() => runner.RunAsync(null, null, cancellationToken), cancellationToken);
}
