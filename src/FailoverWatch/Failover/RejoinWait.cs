using FailoverWatch.Configuration;

namespace FailoverWatch.Failover;

/// <summary>
/// A switchover does not start while its target is being rejoined: the host never overlaps a rejoin with a stop or a
/// promotion of the same node. A rejoin_command still waiting to see its node stream would otherwise run on against
/// a node that was promoted meanwhile, and fail after its stream timeout.
/// </summary>
internal static class RejoinWait
{
    /// <summary>The CLI's client waits 5 minutes for the whole switchover: the wait leaves room for its own steps.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    /// <summary>rejoin_timeout bounds a run, so waiting that long sees it end; but never past <see cref="MaxWait"/>.</summary>
    public static TimeSpan Bound(TimeSpan rejoinTimeout) => rejoinTimeout < MaxWait ? rejoinTimeout : MaxWait;

    /// <summary>Null once no rejoin of <paramref name="node"/> is pending or running; else, after <paramref name="bound"/>, why the switchover must not start.</summary>
    public static async Task<string?> UntilIdleAsync(IRejoinRequests rejoins, string node, TimeSpan bound, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (rejoins.IsRejoining(node))
        {
            if (time.GetElapsedTime(started) >= bound)
            {
                return Busy(node, $" after {Duration.Format(bound)}");
            }

            await Task.Delay(Poll, time, cancellationToken);
        }

        return null;
    }

    /// <summary>Why a switchover to <paramref name="node"/> does not start now.</summary>
    public static string Busy(string node, string waited = "") =>
        $"a rejoin of {node} is still pending or running{waited}; switch over to it once that rejoin has finished (log, failoverwatch incidents)";
}
