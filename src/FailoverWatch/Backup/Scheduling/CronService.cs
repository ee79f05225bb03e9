using Cronos;
using FailoverWatch.Coordination;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Backup.Scheduling;

/// <summary>
/// Runs a job at each occurrence of a cron expression (UTC). It lives on its own task, awaiting the
/// <see cref="TimeProvider"/>, so a long job never delays the monitor loop; a crashed run is logged and the schedule goes on
/// (an exception escaping ExecuteAsync would stop the host).
/// </summary>
/// <param name="leadership">With several monitors, only the leader runs the job (three monitors must not take three backups).</param>
internal abstract class CronService(string schedule, TimeProvider timeProvider, ILogger logger, IMonitorLeadership? leadership) : BackgroundService
{
    private readonly CronExpression _schedule = CronExpression.Parse(schedule);

    protected TimeProvider Time { get; } = timeProvider;

    protected ILogger Logger { get; } = logger;

    /// <summary>What the job is, for the log lines: "backup", "restore test".</summary>
    protected abstract string JobName { get; }

    /// <summary>The job waiting for its next occurrence; tests wait for it before moving the clock.</summary>
    internal DateTimeOffset? NextScheduled { get; private set; }

    internal DateTimeOffset? NextOccurrence(DateTimeOffset after) => _schedule.GetNextOccurrence(after, TimeZoneInfo.Utc);

    /// <summary>One run of the job, off the caller's thread (even its synchronous start); tests call it directly.</summary>
    internal Task RunOnceAsync(CancellationToken cancellationToken) => Task.Run(() => RunJobAsync(cancellationToken), cancellationToken);

    protected abstract Task RunJobAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            if (NextOccurrence(Time.GetUtcNow()) is not { } next)
            {
                return;
            }

            BackupLog.NextRun(Logger, JobName, next);
            try
            {
                var wait = next - Time.GetUtcNow();
                var delay = wait > TimeSpan.Zero ? Task.Delay(wait, Time, stoppingToken) : Task.CompletedTask;
                // Published once the timer exists, so whoever moves the clock after seeing it cannot slip past the timer.
                NextScheduled = next;
                await delay;

                if (leadership is { IsLeader: false })
                {
                    CoordinationLog.JobLeftToLeader(Logger, JobName);
                    continue;
                }

                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                BackupLog.ScheduledCrashed(Logger, JobName, e.Message);
            }
        }
    }
}
