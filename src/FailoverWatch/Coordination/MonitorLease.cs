namespace FailoverWatch.Coordination;

/// <summary>
/// This monitor's etcd lease, which carries its registration and, while it leads, the leader key. Valid by the
/// monotonic clock until the TTL etcd last granted or confirmed, counted from before the request was sent and less
/// one call timeout: a wall clock stepped back never lengthens it, and etcd cannot have let it expire sooner.
/// </summary>
internal sealed class MonitorLease(IEtcdGateway etcd, TimeSpan ttl, TimeProvider time)
{
    private long _id;
    private long _validUntil;

    public TimeSpan Ttl => ttl;

    /// <summary>0 until the first grant.</summary>
    public long Id => Interlocked.Read(ref _id);

    public bool Valid => Id != 0 && time.GetTimestamp() < Interlocked.Read(ref _validUntil);

    /// <summary>Renews the lease, or grants a new one when it was lost; true when the lease is new (keys under the old one are gone).</summary>
    public async Task<bool> RenewAsync(CancellationToken cancellationToken)
    {
        var sentAt = time.GetTimestamp();
        if (Id is var lease and not 0)
        {
            var left = await etcd.KeepAliveAsync(lease, cancellationToken);
            if (left > 0)
            {
                ValidFor(sentAt, TimeSpan.FromSeconds(left));
                return false;
            }

            // Expired: whatever it carried is gone, so it cannot lead any more, even before the grant below answers.
            Interlocked.Exchange(ref _validUntil, 0);
        }

        var granted = await etcd.GrantLeaseAsync(ttl, cancellationToken);
        Interlocked.Exchange(ref _id, granted);
        ValidFor(sentAt, ttl);
        return true;
    }

    /// <summary>Gives the lease up (at stop): its keys, the leader key included, go at once rather than after the TTL.</summary>
    public async Task RevokeAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _validUntil, 0);
        if (Interlocked.Exchange(ref _id, 0) is var lease and not 0)
        {
            await etcd.RevokeAsync(lease, cancellationToken);
        }
    }

    private void ValidFor(long sentAt, TimeSpan left) =>
        Interlocked.Exchange(ref _validUntil, sentAt + (long)((left - etcd.CallTimeout).TotalSeconds * time.TimestampFrequency));
}
