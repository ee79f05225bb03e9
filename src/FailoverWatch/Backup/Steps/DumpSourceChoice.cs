using FailoverWatch.Configuration;

namespace FailoverWatch.Backup.Steps;

/// <summary>What one node said when asked before the dump; <see cref="Role"/> is null when it could not be asked.</summary>
internal sealed record NodeAnswer(NodeOptions Node, string? Role, string? Version, string? Problem)
{
    /// <summary>The primary's current WAL position, or the standby's replay position (bytes from 0/0).</summary>
    public long Lsn { get; init; }

    /// <summary>The standby's last replayed commit time, by its own clock; null when it replayed none since it started.</summary>
    public DateTimeOffset? LastReplay { get; init; }

    /// <summary>The node's clock when it answered.</summary>
    public DateTimeOffset Now { get; init; }

    /// <summary>The standby's WAL receiver streams, heard from its primary within the limit, and has replayed all it received.</summary>
    public bool ReceiverCurrent { get; init; }
}

/// <summary>
/// Which node <c>pg_dumpall</c> reads, and why. A standby serves only while its replay is within
/// <c>max_standby_delay</c> of the primary: a standby whose replication stopped days ago would give an old dump that
/// looks like a good one. Pure: the answers are the input.
/// </summary>
internal static class DumpSourceChoice
{
    public sealed record Choice(NodeAnswer Source, TimeSpan? StandbyDelay, string? InsteadOf);

    public static Choice Choose(IReadOnlyList<NodeAnswer> answers, string from, TimeSpan maxDelay)
    {
        var primary = answers.FirstOrDefault(a => a.Role == "primary");
        var standbys = answers.Where(a => a.Role == "standby").Select(s => (Answer: s, Delay: Delay(s, primary))).ToList();
        var fresh = standbys.Where(s => s.Delay <= maxDelay).Select(s => new Choice(s.Answer, s.Delay, null)).FirstOrDefault();
        var stale = standbys.Where(s => s.Delay is null || s.Delay > maxDelay).Select(s => $"standby {s.Answer.Node.Name} is {Describe(s.Delay)}").ToList();
        var staleSummary = $"{string.Join("; ", stale)} (max_standby_delay {Duration.Human(maxDelay)})";
        if (from == "standby" && fresh is not null)
        {
            return fresh;
        }

        if (primary is not null)
        {
            return new Choice(primary, null, from == "standby" && stale.Count > 0 ? staleSummary : null);
        }

        if (fresh is not null)
        {
            return fresh;
        }

        var unreachable = string.Join("; ", answers.Where(a => a.Role is null).Select(a => $"{a.Node.Name}: {a.Problem}"));
        throw new InvalidOperationException(stale.Count > 0
            ? $"not dumping a stale standby: {staleSummary}, and no primary is reachable to dump from instead ({unreachable})"
            : $"no node reachable for pg_dumpall ({unreachable})");
    }

    /// <summary>
    /// How far the standby's replay is behind: none when it has replayed the primary's position, else the time since its
    /// last replayed commit. Without a primary to compare with, a receiver that streams and has replayed all it received is
    /// current; otherwise the time since its last replayed commit. Null: unknown (nothing replayed since it started).
    /// </summary>
    public static TimeSpan? Delay(NodeAnswer standby, NodeAnswer? primary)
    {
        if (primary is not null ? standby.Lsn >= primary.Lsn : standby.ReceiverCurrent)
        {
            return TimeSpan.Zero;
        }

        return standby.LastReplay is { } last ? standby.Now - last : null;
    }

    private static string Describe(TimeSpan? delay) =>
        delay is { } d ? $"{Duration.Human(d)} behind" : "behind by an unknown time (no commit replayed since it started)";
}
