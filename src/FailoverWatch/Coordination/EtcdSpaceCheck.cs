using System.Globalization;
using Etcdserverpb;

namespace FailoverWatch.Coordination;

/// <summary>
/// What <c>doctor</c> says about etcd's own limits. At its backend quota (2 GiB unless <c>--quota-backend-bytes</c>
/// says otherwise; no API shows it) etcd raises a NOSPACE alarm and refuses every put, transaction and lease grant
/// until an operator compacts, defragments and disarms it: no state write, so every failover is held. So a database
/// past 80% of the default quota is a problem before it is an outage, and a raised NOSPACE alarm is one already.
/// No API shows <c>--auto-compaction-retention</c> either: a revision far back still readable says nothing compacts.
/// </summary>
internal static class EtcdSpaceCheck
{
    public const long DefaultQuotaBytes = 2L << 30;
    public const double Limit = 0.8;

    /// <summary>How far back a revision may still be readable: the leader keeps 1000 and compacts per 1000 more.</summary>
    public const long HistoryKept = 10 * HistoryCompactor.KeepRevisions;

    /// <summary>The problems (<c>etcd: ...</c> lines), a warning when nothing compacts, and the size as a phrase for the ready line.</summary>
    public static async Task<(IReadOnlyList<string> Problems, string? Warning, string Size)> CheckAsync(IEtcdGateway etcd, CancellationToken cancellationToken)
    {
        var status = await etcd.StatusAsync(cancellationToken);
        var alarms = await etcd.AlarmsAsync(cancellationToken);
        var old = status.Header.Revision - HistoryKept;
        var warning = old > 0 && await etcd.RevisionReadableAsync(old, cancellationToken)
            ? $"etcd: revision {old} of {status.Header.Revision} is still readable: nothing compacts its history (under etcd auth the leader needs the root role to; or run etcd with --auto-compaction-retention)"
            : null;
        return (Judge(status.DbSize, alarms), warning, Describe(status.DbSize));
    }

    public static IReadOnlyList<string> Judge(long dbSize, IReadOnlyList<AlarmMember> alarms)
    {
        var problems = new List<string>();
        if (alarms.Any(a => a.Alarm == AlarmType.Nospace))
        {
            problems.Add("etcd: NOSPACE alarm raised: every write is refused, so no failover can be recorded; compact, defragment each member, then `etcdctl alarm disarm`");
        }

        if (dbSize > DefaultQuotaBytes * Limit)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"etcd: {Describe(dbSize)}, over {Limit * 100:0}%: compact and defragment before the NOSPACE alarm refuses every write"));
        }

        return problems;
    }

    private static string Describe(long dbSize) =>
        string.Format(CultureInfo.InvariantCulture, "database {0:0.0} MiB, {1:0.#%} of the default 2 GiB quota", dbSize / 1048576.0, (double)dbSize / DefaultQuotaBytes);
}
