namespace FailoverWatch.Monitoring;

/// <summary>The most recent round's view, shared with <c>/status</c>. Null until the first round ends.</summary>
internal sealed class LatestClusterView
{
    private volatile ClusterView? _current;

    public ClusterView? Current => _current;

    /// <summary>The primary's WAL position from the last round any primary answered.</summary>
    public Lsn? LastKnownPrimaryLsn { get; private set; }

    public void Publish(ClusterView view)
    {
        _current = view;
        if (view.Primaries.Count > 0)
        {
            LastKnownPrimaryLsn = view.PrimaryLsn;
        }
    }
}
