namespace FailoverWatch.Configuration;

/// <summary><c>monitor.drill_schedule</c>: a cron expression, and nodes the host can bring back after each switchover.</summary>
internal static class DrillConfigValidator
{
    public static void Validate(FailoverWatchOptions options, Action<string, string> problem)
    {
        if (options.Monitor.DrillSchedule is not { Length: > 0 } schedule)
        {
            return;
        }

        ConfigValidator.CheckCron(schedule, "monitor.drill_schedule", problem);

        // Each switchover leaves the old primary stopped until its rejoin_command runs: without one a drill halves the cluster.
        if (options.Cluster.Nodes.Where(n => !n.HasRejoinCommand()).Select(n => n.Name).ToList() is { Count: > 0 } without)
        {
            problem("monitor.drill_schedule", $"needs a rejoin_command on every node, which {string.Join(", ", without)} lack(s): a drill's old primary comes back as a standby only through it");
        }
    }
}
