using FailoverWatch.Configuration;
using FailoverWatch.Incidents;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Drill;

/// <summary>The host's drills, one at a time, whether asked for (<c>POST /drill</c>) or scheduled (<c>monitor.drill_schedule</c>).</summary>
internal sealed class DrillService(FailoverWatchOptions options, IClusterControl control, IncidentRecorder incidents, TimeProvider time, ILogger<DrillService> logger)
{
    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>The drill's report; null when another drill is running.</summary>
    public async Task<DrillReport?> RunAsync(string trigger, CancellationToken cancellationToken)
    {
        if (!await _one.WaitAsync(TimeSpan.Zero, cancellationToken))
        {
            logger.DrillNotStarted(trigger, "another drill is running");
            return null;
        }

        try
        {
            return await new DrillRunner(options, control, incidents, time, logger).RunAsync(trigger, cancellationToken);
        }
        finally
        {
            _one.Release();
        }
    }
}
