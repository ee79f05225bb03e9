using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Backup.Scheduling;

/// <summary>
/// A backup run at each <c>backup.schedule</c> occurrence (cron, UTC). With several monitors the leader takes every kind
/// its configuration names; a monitor that does not lead takes only the kinds of its own host's files (certificates and
/// <c>.env.production</c> live on particular hosts), never the dump: three monitors must not take three dumps.
/// </summary>
internal sealed class BackupScheduler(BackupOptions options, BackupRunner runner, TimeProvider timeProvider, ILogger<BackupScheduler> logger, IMonitorLeadership? leadership = null)
    : CronService(options.Schedule!, timeProvider, logger, leadership: null)
{
    protected override string JobName => "backup";

    protected override Task RunJobAsync(CancellationToken cancellationToken)
    {
        if (leadership is not { IsLeader: false })
        {
            return runner.RunAsync(null, null, cancellationToken);
        }

        var own = runner.Steps.Select(s => s.Kind).Where(BackupKinds.OwnHost.Contains).ToHashSet(StringComparer.Ordinal);
        if (own.Count == 0)
        {
            CoordinationLog.JobLeftToLeader(Logger, JobName);
            return Task.CompletedTask;
        }

        BackupLog.OwnHostKindsOnly(Logger, string.Join(",", BackupKinds.OwnHost.Where(own.Contains)));
        return runner.RunAsync(own, null, cancellationToken);
    }
}
