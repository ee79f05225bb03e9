namespace FailoverWatch.State;

/// <summary>
/// A rejoin asked for and not yet done, kept in the state (file or etcd) so a restarted monitor, or a new leader,
/// carries it on: the node, when it is next due, and the incident it belongs to (its <c>FW_INCIDENT</c>).
/// </summary>
internal sealed record PendingRejoin(string Node, DateTimeOffset Due, string? IncidentId);
