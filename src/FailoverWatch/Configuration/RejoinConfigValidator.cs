namespace FailoverWatch.Configuration;

/// <summary>The rejoin keys of <c>monitor</c>: bounded both ways, so a typo cannot mean "never" or "hammer the host".</summary>
internal static class RejoinConfigValidator
{
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);
    private static readonly TimeSpan MinRetry = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromHours(24);

    /// <summary>A reclone moves a data directory aside: a person decides that, never a run the host repeats by itself.</summary>
    public static void ValidateCommand(string? rejoinCommand, string key, Action<string, string> problem)
    {
        if (rejoinCommand?.Contains("--allow-reclone", StringComparison.Ordinal) == true)
        {
            problem(key, "must not pass --allow-reclone: the host runs it again by itself; run rejoin --allow-reclone by hand on the node");
        }
    }

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
