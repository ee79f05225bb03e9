namespace FailoverWatch.Coordination;

/// <summary>
/// The fencing token: the create revision of the leader key this monitor created, 0 while it leads nothing.
/// Every state write is a transaction that compares it with the key in etcd, so a deposed leader's write
/// (the lease expired while it was paused, another monitor created a new key) fails instead of landing.
/// </summary>
internal sealed class LeaderFence
{
    private long _token;

    public long Token => Interlocked.Read(ref _token);

    public void Hold(long token) => Interlocked.Exchange(ref _token, token);

    /// <summary>Drops the token; true when one was held.</summary>
    public bool Drop() => Interlocked.Exchange(ref _token, 0) != 0;
}
