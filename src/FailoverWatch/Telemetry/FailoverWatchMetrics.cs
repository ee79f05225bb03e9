using System.Diagnostics.Metrics;
using Prometheus;

namespace FailoverWatch.Telemetry;

/// <summary>Every metric of the public contract, defined once. Names are in CONTRACT.md.</summary>
internal sealed class FailoverWatchMetrics
{
    public const string MeterName = "FailoverWatch";

    public FailoverWatchMetrics(IMeterFactory meterFactory)
    {
        // A registry per host, so several hosts in one process (tests) never mix their series.
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        var meter = meterFactory.Create(MeterName);
        string[] node = ["cluster", "node"];

        NodeUp = new(factory, meter, "failoverwatch_node_up", "1 when the last probe of the node succeeded", node);
        NodeIsPrimary = new(factory, meter, "failoverwatch_node_is_primary", "1 when the node is writable (not in recovery)", node);
        Primaries = new(factory, meter, "failoverwatch_primaries", "Writable nodes seen in the last round; above 1 is split brain", "cluster");
        ReplicationLagBytes = new(factory, meter, "failoverwatch_replication_lag_bytes", "Primary's current WAL position minus the standby's replay position", node);
        ReplicationReceiveLagBytes = new(factory, meter, "failoverwatch_replication_receive_lag_bytes", "Primary's current (or last known) WAL position minus the standby's received position: what a failover now would lose", node);
        ReplicationLagSeconds = new(factory, meter, "failoverwatch_replication_lag_seconds", "Replay delay in seconds, 0 when fully caught up", node);
        StandbyStreaming = new(factory, meter, "failoverwatch_standby_streaming", "1 when the standby's WAL receiver is streaming", node);
        ProbeDuration = new(factory, meter, "failoverwatch_probe_duration_seconds", "Time of one probe of one node", [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], node);
        ProbeFailures = new(factory, meter, "failoverwatch_probe_failures_total", "Failed probes by reason (unreachable, timeout, write_failed)", "cluster", "node", "reason");
        Failovers = new(factory, meter, "failoverwatch_failovers_total", "Automatic failovers by result: promoted, refused_lag, failed", "cluster", "result");
        FailoversHeld = new(factory, meter, "failoverwatch_failovers_held_total", "Rounds where the primary looked dead to the monitor but a failover was held back, by reason", "cluster", "reason");
        LastFailoverTimestamp = new(factory, meter, "failoverwatch_last_failover_timestamp_seconds", "Unix time of the last promotion", "cluster");
        AutoFailoverEnabled = new(factory, meter, "failoverwatch_auto_failover_enabled", "0 while automatic failover is off or paused", "cluster");
        Paused = new(factory, meter, "failoverwatch_paused", "1 while automatic failover is paused for maintenance (failoverwatch pause); 0 when resumed or off by configuration", "cluster");
        SplitBrains = new(factory, meter, "failoverwatch_split_brain_total", "Times more than one writable node was seen", "cluster");
        CommandFailures = new(factory, meter, "failoverwatch_command_failures_total", "Operator commands (fence, on_failover, on_split_brain, stop, rejoin) that exited non-zero or ran past hooks.timeout", "cluster", "command");
        BackupLastSuccess = new(factory, meter, "failoverwatch_backup_last_success_timestamp_seconds", "Unix time of the last successful backup of the kind", "kind");
        BackupDuration = new(factory, meter, "failoverwatch_backup_duration_seconds", "Duration of the last backup run of the kind", "kind");
        BackupSize = new(factory, meter, "failoverwatch_backup_size_bytes", "Size of the last backup of the kind", "kind");
        BackupFailures = new(factory, meter, "failoverwatch_backup_failures_total", "Failed backups of the kind", "kind");
        RestoreTestLastSuccess = new(factory, meter, "failoverwatch_backup_restore_test_last_success_timestamp_seconds", "Unix time of the last scheduled restore test that restored the newest dump with every row count as dumped", "kind");
        IsLeader = new(factory, meter, "failoverwatch_is_leader", "1 on the monitor that holds the etcd leader lease (always 1 without coordination)", "cluster");
        CoordinationUp = new(factory, meter, "failoverwatch_coordination_up", "1 while etcd answers with quorum (always 1 without coordination)", "cluster");
        Monitors = new(factory, meter, "failoverwatch_monitors", "Live monitors registered in etcd (1 without coordination)", "cluster");
        RestoreTestFailures = new(factory, meter, "failoverwatch_backup_restore_test_failures_total", "Scheduled restore tests that failed", "kind");
        Incidents = new(factory, meter, "failoverwatch_incidents_total", "Incidents recorded (failover, held_failover, refused_promotion, split_brain, adoption); details in GET /incidents", "cluster", "kind");
        DecisionRunning = new(factory, meter, "failoverwatch_decision_running_seconds", "How long the failover decision being carried out has run (0 when none is); past its bound, /healthz fails", "cluster");
        DecisionBound = new(factory, meter, "failoverwatch_decision_bound_seconds", "The longest a failover decision may run with every wait in it bounded (from promotion_timeout and hooks.timeout)", "cluster");
        Rejoins = new(factory, meter, "failoverwatch_rejoins_total", "rejoin_command runs by result: streaming, failed", "cluster", "node", "result");
        SalvagedCommits = new(factory, meter, "failoverwatch_salvaged_commits_total", "Commits found past a fork on a rejoined node and saved before its rewind", "cluster", "node");
        FailoverReady = new(factory, meter, "failoverwatch_failover_ready", "1 when a failover to this standby would work now (the checks of failoverwatch doctor)", node);
        SyncStandby = new(factory, meter, "failoverwatch_sync_standby", "1 while the node is a recorded synchronous standby (holds every acknowledged commit)", node);
        ReplicationDegraded = new(factory, meter, "failoverwatch_replication_degraded", "1 while replication.mode is sync or strict but fewer than replication.number standbys are recorded as confirming every commit", "cluster");
    }

    public CollectorRegistry Registry { get; }

    public GaugeInstrument NodeUp { get; }
    public GaugeInstrument NodeIsPrimary { get; }
    public GaugeInstrument Primaries { get; }
    public GaugeInstrument ReplicationLagBytes { get; }
    public GaugeInstrument ReplicationReceiveLagBytes { get; }
    public GaugeInstrument ReplicationLagSeconds { get; }
    public GaugeInstrument StandbyStreaming { get; }
    public HistogramInstrument ProbeDuration { get; }
    public CounterInstrument ProbeFailures { get; }
    public CounterInstrument Failovers { get; }
    public CounterInstrument FailoversHeld { get; }
    public GaugeInstrument LastFailoverTimestamp { get; }
    public GaugeInstrument AutoFailoverEnabled { get; }
    public GaugeInstrument Paused { get; }
    public CounterInstrument SplitBrains { get; }
    public CounterInstrument CommandFailures { get; }
    public GaugeInstrument BackupLastSuccess { get; }
    public GaugeInstrument BackupDuration { get; }
    public GaugeInstrument BackupSize { get; }
    public CounterInstrument BackupFailures { get; }
    public GaugeInstrument RestoreTestLastSuccess { get; }
    public CounterInstrument RestoreTestFailures { get; }
    public GaugeInstrument FailoverReady { get; }
    public GaugeInstrument DecisionRunning { get; }
    public GaugeInstrument DecisionBound { get; }
    public CounterInstrument Rejoins { get; }
    public CounterInstrument SalvagedCommits { get; }
    public CounterInstrument Incidents { get; }
    public GaugeInstrument IsLeader { get; }
    public GaugeInstrument CoordinationUp { get; }
    public GaugeInstrument Monitors { get; }
    public GaugeInstrument SyncStandby { get; }
    public GaugeInstrument ReplicationDegraded { get; }
}
