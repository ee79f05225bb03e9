using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Backup.Scheduling;

/// <summary>A backup run at each <c>backup.schedule</c> occurrence (cron, UTC).</summary>
internal sealed class BackupScheduler(BackupOptions options, BackupRunner runner, TimeProvider timeProvider, ILogger<BackupScheduler> logger, IMonitorLeadership? leadership = null)
    : CronService(options.Schedule!, timeProvider, logger, leadership)
{
    protected override string JobName => "backup";

    protected override Task RunJobAsync(CancellationToken cancellationToken) => runner.RunAsync(null, null, cancellationToken);
}
