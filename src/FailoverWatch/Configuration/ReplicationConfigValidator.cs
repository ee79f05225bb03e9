namespace FailoverWatch.Configuration;

/// <summary>The <c>replication:</c> rules: a known mode, a number of standbys the cluster has, a sane degrade_after.</summary>
internal static class ReplicationConfigValidator
{
    public static void Validate(ReplicationOptions replication, int nodes, Action<string, string> problem)
    {
        if (!ReplicationModes.All.Contains(replication.Mode, StringComparer.Ordinal))
        {
            problem("replication.mode", $"'{replication.Mode}' must be one of {string.Join(", ", ReplicationModes.All)}");
        }

        // One node is the primary: naming more standbys than the others would make every commit wait for ever.
        if (replication.Number < 1 || replication.Number > Math.Max(1, nodes - 1))
        {
            problem("replication.number", $"{replication.Number} must be from 1 to the number of standbys ({Math.Max(1, nodes - 1)})");
        }

        // Below a second, a healthy standby's ordinary hiccups would drop it; above ten minutes, writes stall that long.
        if (replication.DegradeAfter < TimeSpan.FromSeconds(1) || replication.DegradeAfter > TimeSpan.FromMinutes(10))
        {
            problem("replication.degrade_after", $"{Duration.Format(replication.DegradeAfter)} must be from 1s to 10m");
        }
    }
}
