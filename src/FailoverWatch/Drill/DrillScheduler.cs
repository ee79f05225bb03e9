using FailoverWatch.Backup.Scheduling;
using FailoverWatch.Coordination;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Drill;

/// <summary>
/// <c>monitor.drill_schedule</c>: at each occurrence the host runs the drill, on the leader alone. The drill itself
/// declines (logged, no incident) unless the cluster is ready, lag is 0, no backup runs and the host is not paused.
/// </summary>
internal sealed class DrillScheduler(string schedule, DrillService drills, TimeProvider timeProvider, ILogger<DrillScheduler> logger, IMonitorLeadership? leadership = null)
    : CronService(schedule, timeProvider, logger, leadership)
{
    public const string Trigger = "monitor.drill_schedule";

    protected override string JobName => "drill";

    protected override Task RunJobAsync(CancellationToken cancellationToken) => drills.RunAsync(Trigger, cancellationToken);
}
