using FailoverWatch.Incidents;
using FailoverWatch.State;

namespace FailoverWatch.Failover;

/// <summary>Where a failover or switchover asks for its old primary to come back as a standby (the host's rejoin service).</summary>
internal interface IRejoinRequests
{
    /// <summary>The rejoin now pending, for the caller to save with its own state change; null when the node has no rejoin_command.</summary>
    PendingRejoin? Request(string node, IncidentHandle incident);
}
