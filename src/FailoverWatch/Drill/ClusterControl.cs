using FailoverWatch.Failover;
using FailoverWatch.Incidents;
using FailoverWatch.Monitoring;
using FailoverWatch.Readiness;
using FailoverWatch.Routing;
using FailoverWatch.State;

namespace FailoverWatch.Drill;

/// <summary>The host as its drill sees it; a unit test gives the drill a cluster of its own.</summary>
internal interface IClusterControl
{
    /// <summary>What <c>/status</c> shows now.</summary>
    ClusterSnapshot Status();

    /// <summary>
    /// <see cref="Status"/> once the doctor's checks have run afresh: the host's last verdict may be from before a
    /// switchover or rejoin (it re-checks once per readiness_interval), and a drill must not be refused on it.
    /// </summary>
    Task<ClusterSnapshot> CheckAsync(CancellationToken cancellationToken);

    /// <summary>Null when the host switched over; else why not. The old primary's rejoin goes into <paramref name="incident"/>.</summary>
    Task<string?> SwitchoverAsync(string to, IncidentHandle incident, CancellationToken cancellationToken);
}

/// <summary>The running host's: the last round, the recorded primary, the doctor's last verdict, and its switchover.</summary>
internal sealed class ClusterControl(LatestClusterView latest, FailoverCoordinator coordinator, ReadinessMonitor readiness, SwitchoverService switchover, IRejoinRequests? rejoins = null) : IClusterControl
{
    public ClusterSnapshot Status() =>
        ClusterSnapshot.From(latest.Current, coordinator.State, readiness.Current) with { Rejoining = [.. latest.Current?.Nodes.Select(n => n.Name).Where(n => rejoins?.IsRejoining(n) == true) ?? []] };

    public async Task<ClusterSnapshot> CheckAsync(CancellationToken cancellationToken)
    {
        await readiness.CheckNowAsync(cancellationToken);
        return Status();
    }

    public async Task<string?> SwitchoverAsync(string to, IncidentHandle incident, CancellationToken cancellationToken)
    {
        var result = await switchover.SwitchAsync(to, cancellationToken, incident: incident);
        return result.Succeeded ? null : $"switchover to {to} refused: {result.Message}";
    }
}

/// <summary>What the drill reads of the cluster: the primary, each node's streaming and lag, and the doctor's verdict per standby.</summary>
internal sealed record ClusterSnapshot(string? Primary, IReadOnlyList<NodeSnapshot> Nodes, IReadOnlyDictionary<string, bool> Ready, IReadOnlyList<string> Problems, bool Paused)
{
    public const string NoReadinessYet = "the host has not run its first readiness check yet";

    /// <summary>The nodes whose rejoin is asked for, pending or running.</summary>
    public IReadOnlyCollection<string> Rejoining { get; init; } = [];

    public static ClusterSnapshot From(ClusterView? view, FailoverState state, ReadinessReport? readiness) => new(
        ClusterPrimary.Name(view, state),
        [.. view?.Nodes.Select(n => new NodeSnapshot(n.Name, n.IsStreaming, n.LagBytes, n.ReceiveLagBytes)) ?? []],
        readiness?.Standbys ?? new Dictionary<string, bool>(),
        readiness?.ProblemLines ?? [NoReadinessYet],
        state.Paused);

    /// <summary>Whether <paramref name="node"/> is a reachable standby whose WAL receiver streams.</summary>
    public bool Streams(string node) =>
        Primary is not null && Primary != node && Nodes.Any(n => n.Name == node && n.Streaming);

    /// <summary>Whether <paramref name="node"/> streams with nothing left to receive or replay.</summary>
    public bool StreamsCaughtUp(string node) =>
        Streams(node) && Nodes.Any(n => n.Name == node && n.LagBytes == 0 && n.ReceiveLagBytes == 0);
}

/// <param name="Streaming">A reachable standby whose WAL receiver streams.</param>
internal sealed record NodeSnapshot(string Name, bool Streaming, long? LagBytes, long? ReceiveLagBytes);
