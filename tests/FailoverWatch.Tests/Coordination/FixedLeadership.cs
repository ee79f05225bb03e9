using FailoverWatch.Coordination;
using FailoverWatch.State;

namespace FailoverWatch.Tests.Coordination;

/// <summary>A monitor that leads, or does not, and nothing else: for what only the leader may run.</summary>
internal sealed class FixedLeadership(bool leads) : IMonitorLeadership
{
    public bool IsLeader => leads;

    public MonitorQuorum Quorum(string? primary, int ownPrimaryFailures) => MonitorQuorum.Alone;

    public Task RefreshVotesAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void OnMajority(Func<CancellationToken, Task> decide)
    {
    }

    public void Observe(string? primary, int primaryFailures, string? onlyWritable)
    {
    }

    public Task<long?> GuardActionAsync(string action, string node, CancellationToken cancellationToken) => Task.FromResult<long?>(leads ? 1 : null);

    public Task RecordSwitchoverAsync(SwitchoverRecord? record, CancellationToken cancellationToken) => Task.CompletedTask;

    public void OnSwitchoverFound(Func<SwitchoverRecord, CancellationToken, Task> resume)
    {
    }
}
