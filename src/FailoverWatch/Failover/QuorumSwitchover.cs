using FailoverWatch.State;

namespace FailoverWatch.Failover;

/// <summary>
/// The leader still reaches the primary, but a majority of the monitors (the clients' side) does not: the quorum
/// decides, and since the primary is alive nothing need be lost, so it is a switchover to <paramref name="Target"/>
/// (caught up, the old primary stopped, the rest replayed, then promoted), not a failover.
/// </summary>
internal sealed record QuorumSwitchover(string Target, string OldPrimary, string Reason) : FailoverDecision(Reason);
