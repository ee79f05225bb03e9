using FailoverWatch.Monitoring;

namespace FailoverWatch.Failover;

/// <summary>
/// When the primary's position is worth writing to the state: when none is saved, or once it moved a WAL segment
/// (16 MiB), or half of max_lag_on_failover when that is less. So an idle or quiet cluster does not rewrite its state
/// (with coordination, an etcd revision each time), and the saved position a restarted monitor or a new leader
/// judges a standby's loss by is never further behind than half the loss allowed, as before.
/// </summary>
internal static class PrimaryPositionSave
{
    public const long WalSegmentBytes = 16L << 20;

    public static bool Due(Lsn? saved, Lsn current, long maxLagOnFailoverBytes) =>
        saved is not { } before || (current.BytesAhead(before) is var moved && moved > 0 && moved >= Math.Min(WalSegmentBytes, maxLagOnFailoverBytes / 2));
}
