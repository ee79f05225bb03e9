namespace FailoverWatch.Coordination;

/// <summary>A watch asked for revisions etcd has compacted away (ErrCompacted): the watcher must read afresh.</summary>
internal sealed class EtcdCompactedException(long compactRevision)
    : Exception($"etcd compacted its history up to revision {compactRevision}")
{
    public long CompactRevision { get; } = compactRevision;
}
