using FailoverWatch.State;

namespace FailoverWatch.Coordination;

/// <summary>Whether this monitor may act (promote, fence, hooks, backups), and what the other monitors see.</summary>
internal interface IMonitorLeadership
{
    bool IsLeader { get; }

    /// <summary>The live monitors' votes on <paramref name="primary"/>, this monitor's own count of failed probes included.</summary>
    MonitorQuorum Quorum(string? primary, int ownPrimaryFailures);

    /// <summary>Before a round's decision on a primary this monitor cannot reach: the leader reads the others' latest views.</summary>
    Task RefreshVotesAsync(CancellationToken cancellationToken);

    /// <summary>What to run when fresh votes make a majority between two probe rounds, or this monitor is elected: the round's decision, taken at once.</summary>
    void OnMajority(Func<CancellationToken, Task> decide);

    /// <summary>
    /// After each probe round: this monitor's count of failed probes of <paramref name="primary"/>, and the node it found
    /// the only writable one (null when none or several were), for the others to see.
    /// </summary>
    void Observe(string? primary, int primaryFailures, string? onlyWritable);

    /// <summary>
    /// Immediately before an action on a server (promote, fence, stop, hook): proves this monitor still leads by a
    /// fenced etcd write that records <paramref name="action"/> on <paramref name="node"/>. The fencing token to act
    /// under (hooks get it as FW_FENCING_TOKEN), or null: do not act.
    /// </summary>
    Task<long?> GuardActionAsync(string action, string node, CancellationToken cancellationToken);

    /// <summary>Records the switchover under way and its phase (null: none any more), for a leader that takes over mid-way.</summary>
    Task RecordSwitchoverAsync(SwitchoverRecord? record, CancellationToken cancellationToken);

    /// <summary>
    /// What a new leader runs when it finds a switchover under way: called as it is elected, before it acts on
    /// anything, so whatever <paramref name="resume"/> does synchronously first (taking the decision lock) comes first.
    /// </summary>
    void OnSwitchoverFound(Func<SwitchoverRecord, CancellationToken, Task> resume);
}

/// <summary>Without <c>coordination:</c>: the only monitor, always the leader, deciding alone.</summary>
internal sealed class SoleMonitor : IMonitorLeadership
{
    public bool IsLeader => true;

    public MonitorQuorum Quorum(string? primary, int ownPrimaryFailures) => MonitorQuorum.Alone;

    public Task RefreshVotesAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void OnMajority(Func<CancellationToken, Task> decide)
    {
    }

    public void Observe(string? primary, int primaryFailures, string? onlyWritable)
    {
    }

    /// <summary>Alone it always leads: token 0, at once.</summary>
    public Task<long?> GuardActionAsync(string action, string node, CancellationToken cancellationToken) => Task.FromResult<long?>(0);

    /// <summary>One process: its switchover lock is the whole record.</summary>
    public Task RecordSwitchoverAsync(SwitchoverRecord? record, CancellationToken cancellationToken) => Task.CompletedTask;

    public void OnSwitchoverFound(Func<SwitchoverRecord, CancellationToken, Task> resume)
    {
    }
}
