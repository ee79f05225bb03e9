using FailoverWatch.Configuration;
using FailoverWatch.Telemetry;

namespace FailoverWatch.Monitoring;

/// <summary>Sets the node and replication gauges from a view.</summary>
internal sealed class ClusterMetricsPublisher(FailoverWatchOptions options, FailoverWatchMetrics metrics)
{
    private readonly string _cluster = options.Cluster.Name;
    private readonly Dictionary<string, DateTimeOffset> _observedProbes = new(StringComparer.Ordinal);

    public void Publish(ClusterView view)
    {
        metrics.Primaries.Set(view.Primaries.Count, _cluster);
        foreach (var node in view.Nodes)
        {
            var report = node.Report;
            metrics.NodeUp.Set(report.Reachable ? 1 : 0, _cluster, node.Name);
            metrics.NodeIsPrimary.Set(node.IsReachablePrimary ? 1 : 0, _cluster, node.Name);
            ObserveProbeOnce(report);

            // A standby's gauges keep their last value while it is unreachable; node_up says how fresh they are.
            // A primary has no replication lag: its series go, so "not streaming" alerts never see it.
            if (node.IsReachableStandby)
            {
                metrics.StandbyStreaming.Set(node.IsStreaming ? 1 : 0, _cluster, node.Name);
                metrics.ReplicationLagBytes.Set(node.LagBytes ?? 0, _cluster, node.Name);
                metrics.ReplicationReceiveLagBytes.Set(node.ReceiveLagBytes ?? 0, _cluster, node.Name);
                metrics.ReplicationLagSeconds.Set(node.LagSeconds ?? 0, _cluster, node.Name);
            }
            else if (node.IsReachablePrimary)
            {
                foreach (var gauge in (GaugeInstrument[])[metrics.StandbyStreaming, metrics.ReplicationLagBytes, metrics.ReplicationReceiveLagBytes, metrics.ReplicationLagSeconds])
                {
                    gauge.Remove(_cluster, node.Name);
                }
            }
        }
    }

    /// <summary>A round may carry a node's previous report while its next probe runs; count each probe once.</summary>
    private void ObserveProbeOnce(NodeReport report)
    {
        if (_observedProbes.TryGetValue(report.Node, out var seen) && seen == report.ProbedAt)
        {
            return;
        }

        _observedProbes[report.Node] = report.ProbedAt;
        metrics.ProbeDuration.Observe(report.Duration.TotalSeconds, _cluster, report.Node);
        if (report.Failure is { } failure)
        {
            metrics.ProbeFailures.Inc(_cluster, report.Node, failure.Label);
        }
    }
}
