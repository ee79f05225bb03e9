using FailoverWatch.Monitoring;

namespace FailoverWatch.Tests.Failover;

/// <summary>Short ways to write the node reports a policy test needs.</summary>
internal static class Reports
{
    public static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    public static NodeReport Primary(string node, ulong lsn = 1000, int timeline = 1) => new()
    {
        Node = node, ProbedAt = Now, Duration = TimeSpan.FromMilliseconds(3), Role = NodeRole.Primary, Writable = true,
        CurrentLsn = new Lsn(lsn), Timeline = timeline,
    };

    /// <summary>The address pg1 is configured at; standbys stream from it unless told otherwise.</summary>
    public const string PrimaryAddress = "10.0.0.1";

    public static NodeReport Standby(string node, ulong received = 1000, ulong? replayed = null, bool streaming = false, string from = PrimaryAddress) => new()
    {
        Node = node, ProbedAt = Now, Duration = TimeSpan.FromMilliseconds(3), Role = NodeRole.Standby,
        ReceiveLsn = new Lsn(received), ReplayLsn = new Lsn(replayed ?? received), ServerTime = Now, LastReplayedTransactionAt = Now.AddSeconds(-5),
        WalReceiver = new WalReceiverState(streaming ? "streaming" : "waiting", Now, from, 5432),
    };

    public static NodeReport Down(string node, ProbeFailureKind kind = ProbeFailureKind.Unreachable) =>
        NodeReport.Failed(node, Now, TimeSpan.FromSeconds(2), new ProbeFailure(kind, "connection refused"));

    public static ClusterView View(string? recordedPrimary, ulong? lastKnownPrimaryLsn, params NodeReport[] reports) =>
        ClusterView.Build(reports, recordedPrimary, lastKnownPrimaryLsn is { } l ? new Lsn(l) : null, Now);
}
