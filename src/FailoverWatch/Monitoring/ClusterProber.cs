using FailoverWatch.Configuration;
using FailoverWatch.Telemetry;

namespace FailoverWatch.Monitoring;

/// <summary>Probes every node at once, so one hung node never delays the others' reports.</summary>
internal sealed class ClusterProber(FailoverWatchOptions options, TimeProvider time)
{
    private readonly NodeProber[] _probers = [.. options.Cluster.Nodes.Select(n => new NodeProber(n, options.Monitor, time))];

    public async Task<IReadOnlyList<NodeReport>> ProbeAllAsync(CancellationToken cancellationToken)
    {
        using var activity = FailoverWatchActivity.Source.StartActivity("probe round");
        var reports = await Task.WhenAll(_probers.Select(p => p.ProbeAsync(cancellationToken)));
        activity?.SetTag("failoverwatch.nodes_up", reports.Count(r => r.Reachable));
        return reports;
    }
}
