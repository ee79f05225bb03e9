using FailoverWatch.Configuration;

namespace FailoverWatch.Rejoin;

/// <summary>The rejoin keys of <c>monitor</c>: bounded both ways, so a typo cannot mean "never" or "hammer the host".</summary>
internal static class RejoinConfigValidator
{
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);
    private static readonly TimeSpan MinRetry = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromHours(24);

    public static void Validate(MonitorOptions monitor, Action<string, string> problem)
    {
        if (monitor.RejoinTimeout <= TimeSpan.Zero || monitor.RejoinTimeout > MaxTimeout)
        {
            problem("monitor.rejoin_timeout", $"{Duration.Format(monitor.RejoinTimeout)} must be above zero and at most {MaxTimeout.TotalHours:0}h");
        }

        if (monitor.RejoinRetry < MinRetry || monitor.RejoinRetry > MaxRetry)
        {
            problem("monitor.rejoin_retry", $"{Duration.Format(monitor.RejoinRetry)} must be between {Duration.Format(MinRetry)} and {MaxRetry.TotalHours:0}h");
        }
    }
}
