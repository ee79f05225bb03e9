namespace FailoverWatch.Monitoring;

/// <summary>
/// All reports of one probe round and the facts derived from them: who is primary, and each standby's lag
/// against the primary's current WAL position (or its last known one, when the primary is gone).
/// </summary>
internal sealed record ClusterView(DateTimeOffset At, IReadOnlyList<NodeStatus> Nodes, Lsn? PrimaryLsn)
{
    /// <summary>Nodes that answered and are not in recovery. More than one is split brain.</summary>
    public IReadOnlyList<NodeStatus> Primaries => [.. Nodes.Where(n => n.IsReachablePrimary)];

    public NodeStatus? Find(string? name) => name is null ? null : Nodes.FirstOrDefault(n => n.Name == name);

    /// <param name="referencePrimary">The recorded primary; measured against when several nodes are writable.</param>
    /// <param name="lastKnownPrimaryLsn">The primary's position from an earlier round, used when no primary answers now.</param>
    public static ClusterView Build(IReadOnlyList<NodeReport> reports, string? referencePrimary, Lsn? lastKnownPrimaryLsn, DateTimeOffset at)
    {
        var primaries = reports.Where(r => r.Reachable && r.Role == NodeRole.Primary).ToList();
        var reference = primaries.FirstOrDefault(p => p.Node == referencePrimary) ?? primaries.FirstOrDefault();
        var primaryLsn = reference?.CurrentLsn ?? lastKnownPrimaryLsn;
        var nodes = reports.Select(r => Derive(r, primaryLsn)).ToList();
        return new ClusterView(at, nodes, primaryLsn);
    }

    private static NodeStatus Derive(NodeReport report, Lsn? primaryLsn)
    {
        if (!report.Reachable || report.Role != NodeRole.Standby)
        {
            return new NodeStatus(report, null, null, null);
        }

        // With no primary position at all, measure replay against what the standby itself has received.
        var reference = primaryLsn ?? report.HeldLsn;
        long? lagBytes = reference is { } r && report.ReplayLsn is { } replay ? r.BytesAhead(replay) : null;
        long? receiveLag = reference is { } r2 && report.HeldLsn is { } held ? r2.BytesAhead(held) : null;
        return new NodeStatus(report, lagBytes, receiveLag, LagSeconds(report, lagBytes));
    }

    /// <summary>0 when everything is replayed, so an idle primary does not make a standby look late.</summary>
    private static double? LagSeconds(NodeReport report, long? lagBytes)
    {
        if (lagBytes == 0)
        {
            return 0;
        }

        if (report.ServerTime is { } now && report.LastReplayedTransactionAt is { } replayed)
        {
            return Math.Max(0, (now - replayed).TotalSeconds);
        }

        return null;
    }
}
