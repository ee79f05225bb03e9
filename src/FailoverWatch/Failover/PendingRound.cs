using FailoverWatch.Monitoring;

namespace FailoverWatch.Failover;

/// <summary>
/// The latest view not yet decided on because the decision lock was busy (an earlier decision still carried out, a
/// switchover): decided as soon as the lock frees, so a majority found meanwhile is never dropped. Views coalesce to
/// the latest. One offered under another recorded primary is stale once the lock frees (the roles changed under
/// it, by the failover or switchover that held the lock): the next round probes afresh instead.
/// </summary>
internal sealed class PendingRound
{
    private readonly Lock _lock = new();
    private ClusterView? _view;
    private string? _primary;
    private ClusterView? _taken;

    public bool Waiting
    {
        get
        {
            lock (_lock)
            {
                return _view is not null;
            }
        }
    }

    /// <summary>Replaces whatever waits; a view already decided on (the round's own, offered again by the leader's majority check) is not offered twice.</summary>
    public void Offer(ClusterView view, string? recordedPrimary)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(view, _taken))
            {
                (_view, _primary) = (view, recordedPrimary);
            }
        }
    }

    /// <summary>The view to decide on now, if any and still under <paramref name="recordedPrimary"/>; the slot is empty after.</summary>
    public ClusterView? Take(string? recordedPrimary)
    {
        lock (_lock)
        {
            var view = _primary == recordedPrimary ? _view : null;
            _taken = view ?? _taken;
            (_view, _primary) = (null, null);
            return view;
        }
    }
}
