using FailoverWatch.Incidents;
using FailoverWatch.State;

namespace FailoverWatch.Failover;

/// <summary>Where a failover or switchover asks for its old primary to come back as a standby (the host's rejoin service).</summary>
internal interface IRejoinRequests
{
    /// <summary>
    /// Asks for <paramref name="node"/>'s rejoin (nothing when it has no rejoin_command) and returns once the state holds
    /// it, so a monitor that dies right after still brings the node back. Throws when that write fails; the request
    /// stays queued and its write is tried again.
    /// </summary>
    Task RequestAsync(string node, IncidentHandle incident, CancellationToken cancellationToken);

    /// <summary>
    /// The request for <paramref name="node"/>'s rejoin for the caller to write into the state itself, in the same
    /// write as what makes it due (a switchover's new primary); null when the node has no rejoin_command.
    /// </summary>
    PendingRejoin? Prepare(string node, IncidentHandle incident);

    /// <summary>Whether a rejoin of <paramref name="node"/> is asked for, pending (a retry included) or running.</summary>
    bool IsRejoining(string node);
}
