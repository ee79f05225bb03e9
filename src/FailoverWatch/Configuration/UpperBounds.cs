namespace FailoverWatch.Configuration;

/// <summary>
/// Upper bounds of the settings that bound the failover path. Each one too large turns a wait the monitor must never
/// sit through (a hung fence, a promotion that never ends, a primary dead for minutes unnoticed) into one it does.
/// </summary>
internal static class UpperBounds
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromMinutes(1);
    public const int FailureThreshold = 100;
    public static readonly TimeSpan PromotionTimeout = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan HooksTimeout = TimeSpan.FromMinutes(10);

    public static void Validate(FailoverWatchOptions options, Action<string, string> problem)
    {
        var monitor = options.Monitor;
        Check("monitor.probe_interval", monitor.ProbeInterval, ProbeInterval, problem);
        Check("monitor.probe_timeout", monitor.ProbeTimeout, ProbeTimeout, problem);
        Check("monitor.promotion_timeout", monitor.PromotionTimeout, PromotionTimeout, problem);
        Check("hooks.timeout", options.Hooks.Timeout, HooksTimeout, problem);
        if (monitor.FailureThreshold > FailureThreshold)
        {
            problem("monitor.failure_threshold", $"{monitor.FailureThreshold} is above {FailureThreshold}: a dead primary would go unreplaced for that many probes");
        }
    }

    private static void Check(string key, TimeSpan value, TimeSpan limit, Action<string, string> problem)
    {
        if (value > limit)
        {
            problem(key, $"{Duration.Format(value)} is above the limit of {Duration.Format(limit)}");
        }
    }
}
