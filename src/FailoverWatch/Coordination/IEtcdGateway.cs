using Etcdserverpb;
using Mvccpb;

namespace FailoverWatch.Coordination;

/// <summary>The etcd calls coordination makes (<see cref="EtcdGateway"/>); an interface so its logic is tested against an in-memory etcd.</summary>
internal interface IEtcdGateway
{
    /// <summary>Bounds each call; a lease renewed is counted valid this much less than etcd says, for the answer's way back.</summary>
    TimeSpan CallTimeout { get; }

    Task<long> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Renews a lease once; the TTL left, 0 when the lease has already expired.</summary>
    Task<long> KeepAliveAsync(long lease, CancellationToken cancellationToken);

    Task RevokeAsync(long lease, CancellationToken cancellationToken);

    Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken);

    Task<IReadOnlyList<KeyValue>> GetPrefixAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>The keys under <paramref name="prefix"/> but not under <paramref name="excluded"/>, in one request, and the revision read at.</summary>
    Task<(IReadOnlyList<KeyValue> Kvs, long Revision)> GetPrefixExceptAsync(string prefix, string excluded, CancellationToken cancellationToken);

    /// <summary>The keys under <paramref name="prefix"/> and the revision they were read at, to watch from.</summary>
    Task<(IReadOnlyList<KeyValue> Kvs, long Revision)> ReadPrefixAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>
    /// Each change under <paramref name="prefix"/> from <paramref name="fromRevision"/> on, a batch per revision or
    /// more, on one stream. Throws <see cref="EtcdCompactedException"/> when that revision is compacted away, and an
    /// <see cref="Grpc.Core.RpcException"/> when the stream breaks or the answering member loses its leader.
    /// </summary>
    IAsyncEnumerable<IReadOnlyList<Event>> WatchAsync(string prefix, long fromRevision, CancellationToken cancellationToken);

    /// <summary>Drops every revision older than <paramref name="revision"/> (PermissionDenied without the root role under auth).</summary>
    Task CompactAsync(long revision, CancellationToken cancellationToken);

    /// <summary>The answering member's status: the size of its database, which etcd's backend quota bounds.</summary>
    Task<StatusResponse> StatusAsync(CancellationToken cancellationToken);

    /// <summary>The alarms raised in the cluster (NOSPACE: every write refused until an operator disarms it).</summary>
    Task<IReadOnlyList<AlarmMember>> AlarmsAsync(CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="revision"/> can still be read (false once compacted away).</summary>
    Task<bool> RevisionReadableAsync(long revision, CancellationToken cancellationToken);

    /// <summary>A transaction; after a lost answer it may be sent twice, so callers read a failed compare as "maybe mine".</summary>
    Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken);
}
