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

    /// <summary>
    /// Replaces whatever waits. The view may be one already decided on: the leader's watch offers the last round's
    /// view again when the others' votes make a majority, and the votes are read when it is decided.
    /// </summary>
    public void Offer(ClusterView view, string? recordedPrimary)
    {
        lock (_lock)
        {
            (_view, _primary) = (view, recordedPrimary);
        }
    }

    /// <summary>The view to decide on now, if any and still under <paramref name="recordedPrimary"/>; the slot is empty after.</summary>
    public ClusterView? Take(string? recordedPrimary)
    {
        lock (_lock)
        {
            var view = _primary == recordedPrimary ? _view : null;
            (_view, _primary) = (null, null);
            return view;
        }
    }
}
