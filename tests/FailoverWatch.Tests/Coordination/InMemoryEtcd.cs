using Etcdserverpb;
using FailoverWatch.Coordination;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Mvccpb;

namespace FailoverWatch.Tests.Coordination;

/// <summary>
/// etcd's key-value store, leases and transactions as coordination uses them, in memory on a fake clock, with the
/// faults that matter: no answer, an answer lost after the commit (so the gateway sends it again), every lease
/// revoked at once (an etcd leader resuming after a pause), a lease expired before its keys are deleted; watches
/// over its history of changes, which compaction cuts and which can be broken.
/// </summary>
internal sealed class InMemoryEtcd(TimeProvider time) : IEtcdGateway
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, KeyValue> _kvs = new(StringComparer.Ordinal);
    private readonly Dictionary<long, (long Ttl, DateTimeOffset ExpiresAt)> _leases = [];
    private readonly List<Func<TxnRequest, bool>> _loseAnswer = [];
    private readonly List<Event> _history = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _watchGeneration;
    private long _revision = 1;
    private long _nextLease = 1000;

    public TimeSpan CallTimeout { get; } = TimeSpan.FromSeconds(1);

    /// <summary>Every call fails as without quorum, and so does every watch stream.</summary>
    public bool Down
    {
        get;
        set
        {
            lock (_lock)
            {
                field = value;
                Changed();
            }
        }
    }

    /// <summary>Transactions wait for this while it is set (a write in flight).</summary>
    public TaskCompletionSource? Stalled { get; set; }

    public int Transactions { get; private set; }

    /// <summary>Reads of the views with their revision (<see cref="ReadPrefixAsync"/>) so far.</summary>
    public int PrefixReads { get; private set; }

    /// <summary>Reads of the whole group (<see cref="GetPrefixExceptAsync"/>) so far.</summary>
    public int GroupReads { get; private set; }

    /// <summary>Lease renewals so far.</summary>
    public int KeepAlives { get; private set; }

    /// <summary>Watch streams opened so far, and the revision the last one started from.</summary>
    public int WatchesOpened { get; private set; }

    public long LastWatchFrom { get; private set; }

    /// <summary>Every open watch stream fails, as when the member answering it goes away.</summary>
    public void BreakWatches()
    {
        lock (_lock)
        {
            _watchGeneration++;
            Changed();
        }
    }

    /// <summary>The next transaction that matches commits, its answer is lost, and the gateway's resend is what the caller sees.</summary>
    public void LoseAnswerOnce(Func<TxnRequest, bool> which)
    {
        lock (_lock)
        {
            _loseAnswer.Add(which);
        }
    }

    public static bool Touches(TxnRequest txn, string key) => txn.Compare.Any(c => c.Key.ToStringUtf8() == key);

    /// <summary>What an etcd leader resuming after a pause may do (etcd PR 16822): every lease revoked, their keys gone.</summary>
    public void RevokeAllLeases()
    {
        lock (_lock)
        {
            foreach (var lease in _leases.Keys.ToList())
            {
                Revoke(lease);
            }
        }
    }

    /// <summary>A lease etcd counts as expired while the deletion of its keys has not gone through yet.</summary>
    public void ExpireKeepingKeys(long lease)
    {
        lock (_lock)
        {
            _leases.Remove(lease);
        }
    }

    public KeyValue? Get(string key)
    {
        lock (_lock)
        {
            Expire();
            return _kvs.GetValueOrDefault(key)?.Clone();
        }
    }

    public Task<long> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken) => Answer(() =>
    {
        var id = ++_nextLease;
        _leases[id] = ((long)ttl.TotalSeconds, time.GetUtcNow() + ttl);
        return id;
    });

    /// <summary>How many of the next keep-alives fail (a call lost under load) while the watch streams go on.</summary>
    public int FailingKeepAlives { get; set; }

    public Task<long> KeepAliveAsync(long lease, CancellationToken cancellationToken) => Answer(() =>
    {
        if (FailingKeepAlives > 0)
        {
            FailingKeepAlives--;
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"));
        }

        KeepAlives++;
        if (!_leases.TryGetValue(lease, out var held))
        {
            return 0L;
        }

        _leases[lease] = (held.Ttl, time.GetUtcNow() + TimeSpan.FromSeconds(held.Ttl));
        return held.Ttl;
    });

    public Task RevokeAsync(long lease, CancellationToken cancellationToken) => Answer(() => Revoke(lease));

    public Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken) => Answer(() => _kvs.GetValueOrDefault(key)?.Clone());

    public Task<IReadOnlyList<KeyValue>> GetPrefixAsync(string prefix, CancellationToken cancellationToken) =>
        Answer<IReadOnlyList<KeyValue>>(() => [.. _kvs.Values.Where(kv => kv.Key.ToStringUtf8().StartsWith(prefix, StringComparison.Ordinal)).Select(kv => kv.Clone())]);

    public Task<(IReadOnlyList<KeyValue> Kvs, long Revision)> ReadPrefixAsync(string prefix, CancellationToken cancellationToken) =>
        Answer<(IReadOnlyList<KeyValue>, long)>(() =>
        {
            PrefixReads++;
            return ([.. _kvs.Values.Where(kv => kv.Key.ToStringUtf8().StartsWith(prefix, StringComparison.Ordinal)).Select(kv => kv.Clone())], _revision);
        });

    public async IAsyncEnumerable<IReadOnlyList<Event>> WatchAsync(string prefix, long fromRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        int generation;
        lock (_lock)
        {
            WatchesOpened++;
            LastWatchFrom = fromRevision;
            generation = _watchGeneration;
            if (fromRevision <= CompactedTo)
            {
                throw new EtcdCompactedException(CompactedTo);
            }
        }

        var next = fromRevision;
        while (true)
        {
            List<Event> batch;
            Task changed;
            lock (_lock)
            {
                if (Down || generation != _watchGeneration)
                {
                    throw new RpcException(new Status(StatusCode.Unavailable, "the watch stream ended"));
                }

                Expire();
                batch = [.. _history.Where(e => e.Kv.ModRevision >= next && e.Kv.Key.ToStringUtf8().StartsWith(prefix, StringComparison.Ordinal)).Select(e => e.Clone())];
                changed = _changed.Task;
            }

            if (batch.Count > 0)
            {
                next = batch.Max(e => e.Kv.ModRevision) + 1;
                yield return batch;
            }
            else
            {
                await changed.WaitAsync(cancellationToken);
            }
        }
    }

    public Task<(IReadOnlyList<KeyValue> Kvs, long Revision)> GetPrefixExceptAsync(string prefix, string excluded, CancellationToken cancellationToken) =>
        Answer<(IReadOnlyList<KeyValue>, long)>(() =>
        {
            GroupReads++;
            return ([.. _kvs.Values.Where(kv => kv.Key.ToStringUtf8() is var key && key.StartsWith(prefix, StringComparison.Ordinal) && !key.StartsWith(excluded, StringComparison.Ordinal)).Select(kv => kv.Clone())], _revision);
        });

    /// <summary>The revision compacted to, and whether Compact is refused (etcd auth without the root role).</summary>
    public long CompactedTo { get; private set; }

    public bool CompactDenied { get; set; }

    public Task CompactAsync(long revision, CancellationToken cancellationToken) => Answer(() =>
    {
        if (CompactDenied)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "etcdserver: permission denied"));
        }

        CompactedTo = revision;
        _history.RemoveAll(e => e.Kv.ModRevision <= revision);
    });

    /// <summary>What Maintenance Status and Alarm answer.</summary>
    public long DbSize { get; set; }

    public List<AlarmMember> Alarms { get; } = [];

    public Task<StatusResponse> StatusAsync(CancellationToken cancellationToken) => Answer(() => new StatusResponse { DbSize = DbSize, Header = new ResponseHeader { Revision = _revision } });

    public Task<IReadOnlyList<AlarmMember>> AlarmsAsync(CancellationToken cancellationToken) => Answer<IReadOnlyList<AlarmMember>>(() => [.. Alarms]);

    public Task<bool> RevisionReadableAsync(long revision, CancellationToken cancellationToken) => Answer(() => revision > CompactedTo);

    /// <summary>The current revision, as a member's status reports it.</summary>
    public long Revision
    {
        get => _revision;
        set => _revision = value;
    }

    public async Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken)
    {
        if (Stalled is { } stalled)
        {
            await stalled.Task.WaitAsync(cancellationToken);
        }

        return await Answer(() =>
        {
            Transactions++;
            var lost = _loseAnswer.FirstOrDefault(which => which(request));
            if (lost is not null)
            {
                _loseAnswer.Remove(lost);
                Apply(request);
            }

            return Apply(request);
        });
    }

    private Task<T> Answer<T>(Func<T> call)
    {
        lock (_lock)
        {
            if (Down)
            {
                return Task.FromException<T>(new RpcException(new Status(StatusCode.Unavailable, "etcdserver: no leader")));
            }

            Expire();
            return Task.FromResult(call());
        }
    }

    private Task Answer(Action call) => Answer(() =>
    {
        call();
        return true;
    });

    private TxnResponse Apply(TxnRequest request)
    {
        var succeeded = request.Compare.All(Holds);
        var response = new TxnResponse { Succeeded = succeeded };
        var ops = succeeded ? request.Success : request.Failure;
        var wrote = false;
        foreach (var op in ops)
        {
            if (op.RequestPut is { } put)
            {
                if (!wrote)
                {
                    _revision++;
                    wrote = true;
                }

                if (put.Lease != 0 && !_leases.ContainsKey(put.Lease))
                {
                    throw new RpcException(new Status(StatusCode.NotFound, "etcdserver: requested lease not found"));
                }

                var key = put.Key.ToStringUtf8();
                var old = _kvs.GetValueOrDefault(key);
                _kvs[key] = new KeyValue
                {
                    Key = put.Key,
                    Value = put.Value,
                    Lease = put.Lease,
                    CreateRevision = old?.CreateRevision ?? _revision,
                    ModRevision = _revision,
                    Version = (old?.Version ?? 0) + 1,
                };
                Record(Event.Types.EventType.Put, _kvs[key]);
                response.Responses.Add(new ResponseOp { ResponsePut = new PutResponse() });
            }
            else if (op.RequestDeleteRange is { } delete)
            {
                if (_kvs.ContainsKey(delete.Key.ToStringUtf8()))
                {
                    if (!wrote)
                    {
                        _revision++;
                        wrote = true;
                    }

                    Deleted(delete.Key.ToStringUtf8());
                }

                response.Responses.Add(new ResponseOp { ResponseDeleteRange = new DeleteRangeResponse() });
            }
            else if (op.RequestRange is { } range)
            {
                var found = new RangeResponse();
                if (_kvs.GetValueOrDefault(range.Key.ToStringUtf8()) is { } kv)
                {
                    found.Kvs.Add(kv.Clone());
                }

                response.Responses.Add(new ResponseOp { ResponseRange = found });
            }
        }

        response.Header = new ResponseHeader { Revision = _revision };
        return response;
    }

    private bool Holds(Compare compare)
    {
        var kv = _kvs.GetValueOrDefault(compare.Key.ToStringUtf8());
        return compare.Target switch
        {
            Compare.Types.CompareTarget.Create => (kv?.CreateRevision ?? 0) == compare.CreateRevision,
            Compare.Types.CompareTarget.Mod => (kv?.ModRevision ?? 0) == compare.ModRevision,
            Compare.Types.CompareTarget.Lease => (kv?.Lease ?? 0) == compare.Lease,
            Compare.Types.CompareTarget.Value => kv is not null && kv.Value == compare.Value,
            _ => throw new NotSupportedException(compare.Target.ToString()),
        };
    }

    private void Expire()
    {
        foreach (var lease in _leases.Where(l => l.Value.ExpiresAt <= time.GetUtcNow()).Select(l => l.Key).ToList())
        {
            Revoke(lease);
        }
    }

    private void Revoke(long lease)
    {
        _leases.Remove(lease);
        var gone = _kvs.Where(kv => kv.Value.Lease == lease).Select(kv => kv.Key).ToList();
        if (gone.Count > 0)
        {
            _revision++;
        }

        foreach (var key in gone)
        {
            Deleted(key);
        }
    }

    private void Deleted(string key)
    {
        _kvs.Remove(key);
        Record(Event.Types.EventType.Delete, new KeyValue { Key = Google.Protobuf.ByteString.CopyFromUtf8(key), ModRevision = _revision });
    }

    private void Record(Event.Types.EventType type, KeyValue kv)
    {
        _history.Add(new Event { Type = type, Kv = kv.Clone() });
        Changed();
    }

    private void Changed() => Interlocked.Exchange(ref _changed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
