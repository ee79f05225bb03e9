using Mvccpb;

namespace FailoverWatch.Coordination;

/// <summary>
/// The group's keys as etcd changes them, on one watch stream, instead of reading them over and over: each change of
/// a monitor's view reaches <see cref="MonitorVotes"/> as it commits, and every change is handed on (the state, the
/// leader key). A broken stream resumes from the last revision received, so no change is missed; one whose revision
/// was compacted away (ErrCompacted) reads the views afresh and watches from that read's revision. The coordination
/// loop's periodic read of the group backs it up whatever happens to the stream.
/// </summary>
internal sealed class MonitorGroupWatch(IEtcdGateway etcd, EtcdKeys keys, MonitorVotes votes, TimeProvider time)
{
    private long _revision;
    private volatile bool _live;

    /// <summary>True while the stream delivers: the group's keys are as current as etcd's, with no read needed.</summary>
    public bool Live => _live;

    /// <summary>
    /// Until stopped; <paramref name="changed"/> runs after every batch of changes taken, and with none after the views
    /// were read afresh (what else changed before that read is not on the stream). It must not throw.
    /// </summary>
    public async Task RunAsync(Func<IReadOnlyList<Event>, CancellationToken, Task> changed, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (_revision == 0)
                {
                    var (kvs, revision) = await etcd.ReadPrefixAsync(keys.Monitors, stoppingToken);
                    votes.Update(kvs, revision);
                    _revision = revision;
                    await changed([], stoppingToken);
                }

                // Incidents too (written only with a failover): one stream, never a second.
                await foreach (var batch in etcd.WatchAsync(keys.Root, _revision + 1, stoppingToken))
                {
                    _live = true;
                    votes.Apply([.. batch.Where(e => keys.IsMonitor(e.Kv.Key.ToStringUtf8()))]);
                    _revision = Math.Max(_revision, batch.Max(e => e.Kv.ModRevision));
                    await changed(batch, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (EtcdCompactedException)
            {
                // What happened in between is gone: read it all again, at once.
                (_live, _revision) = (false, 0);
                continue;
            }
            catch (Exception)
            {
                // Broken stream, etcd down or without a leader: the tick says so and reads meanwhile; resumed from the last revision.
            }

            _live = false;
            try
            {
                await Task.Delay(etcd.CallTimeout, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
