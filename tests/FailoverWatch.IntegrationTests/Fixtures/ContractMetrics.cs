namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>The metric names of CONTRACT.md's table, which scrapes, dashboard and alerts are checked against.</summary>
public static class ContractMetrics
{
    public static readonly string[] Monitoring =
    [
        "failoverwatch_node_up", "failoverwatch_node_is_primary", "failoverwatch_primaries",
        "failoverwatch_replication_lag_bytes", "failoverwatch_replication_receive_lag_bytes",
        "failoverwatch_replication_lag_seconds", "failoverwatch_standby_streaming",
        "failoverwatch_probe_duration_seconds", "failoverwatch_failovers_total",
        "failoverwatch_last_failover_timestamp_seconds", "failoverwatch_auto_failover_enabled",
        "failoverwatch_command_failures_total",
        "failoverwatch_is_leader", "failoverwatch_coordination_up", "failoverwatch_monitors",
    ];

    public static readonly string[] Backup =
    [
        "failoverwatch_backup_last_success_timestamp_seconds", "failoverwatch_backup_duration_seconds",
        "failoverwatch_backup_size_bytes", "failoverwatch_backup_failures_total",
    ];

    /// <summary>Published once the host's first readiness check has run, a round or so after the monitoring rows.</summary>
    public static readonly string[] Readiness = ["failoverwatch_failover_ready"];

    public static readonly string[] Incidents = ["failoverwatch_incidents_total"];

    public static readonly string[] Replication = ["failoverwatch_sync_standby", "failoverwatch_replication_degraded"];

    /// <summary>Published only for nodes with a rejoin_command.</summary>
    public static readonly string[] Rejoin = ["failoverwatch_rejoins_total", "failoverwatch_salvaged_commits_total"];

    public static readonly string[] All = [.. Monitoring, .. Backup, .. Readiness, .. Incidents, .. Replication, .. Rejoin];
}
