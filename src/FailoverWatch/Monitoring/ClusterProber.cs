using FailoverWatch.Configuration;
using FailoverWatch.Telemetry;

namespace FailoverWatch.Monitoring;

/// <summary>
/// Probes every node at once, so one hung node never delays the others' reports. Keeps each node's
/// latest finished report: a round may go on without a node whose probe still waits on a hung server.
/// </summary>
internal sealed class ClusterProber(FailoverWatchOptions options, TimeProvider time) : IAsyncDisposable
{
    private readonly NodeProber[] _probers = [.. options.Cluster.Nodes.Select(n => new NodeProber(n, options.Monitor, time))];
    private readonly NodeReport?[] _latest = new NodeReport?[options.Cluster.Nodes.Count];
    private readonly Lock _gate = new();

    /// <summary>Probes every node and waits for all of them (each bounded by probe_timeout).</summary>
    public Task<IReadOnlyList<NodeReport>> ProbeAllAsync(CancellationToken cancellationToken) =>
        ProbeRoundAsync(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Starts a probe of every node and waits at most <paramref name="wait"/>. A node whose probe has not
    /// finished by then is reported by its latest finished probe; the running one lands in a later round.
    /// So a hung node still fails one probe per interval, and the other nodes' reports are always fresh.
    /// </summary>
    public async Task<IReadOnlyList<NodeReport>> ProbeRoundAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        using var activity = FailoverWatchActivity.Source.StartActivity("probe round");
        var started = time.GetUtcNow();
        var clock = time.GetTimestamp();
        var probes = _probers.Select((prober, index) => KeepLatestAsync(index, prober, cancellationToken)).ToArray();
        try
        {
            await Task.WhenAll(probes).WaitAsync(wait, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Some node is slow; its report arrives with a later round.
        }

        NodeReport[] reports;
        lock (_gate)
        {
            reports = [.. _latest.Select((report, i) => report ?? Pending(i, started, time.GetElapsedTime(clock)))];
        }

        activity?.SetTag("failoverwatch.nodes_up", reports.Count(r => r.Reachable));
        return reports;
    }

    /// <summary>Closes the connections the probers keep, so the servers see a clean goodbye rather than a dropped socket.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var prober in _probers)
        {
            await prober.DisposeAsync();
        }
    }

    private async Task KeepLatestAsync(int index, NodeProber prober, CancellationToken cancellationToken)
    {
        var report = await prober.ProbeAsync(cancellationToken);
        lock (_gate)
        {
            if (_latest[index] is not { } current || report.ProbedAt > current.ProbedAt)
            {
                _latest[index] = report;
            }
        }
    }

    private NodeReport Pending(int index, DateTimeOffset started, TimeSpan waited) =>
        NodeReport.Failed(_probers[index].NodeName, started, waited, new ProbeFailure(ProbeFailureKind.Timeout, "first probe has not answered yet"));
}
