namespace FailoverWatch.Coordination;

/// <summary>
/// The monitors' views as etcd changes them, on one watch stream, instead of reading them over and over: each change
/// reaches <see cref="MonitorVotes"/> as it commits. A broken stream resumes from the last revision received, so no
/// change is missed; one whose revision was compacted away (ErrCompacted) is read afresh and watched from that read's
/// revision. The tick's periodic read backs it up whatever happens to the stream.
/// </summary>
internal sealed class MonitorViewsWatch(IEtcdGateway etcd, string prefix, MonitorVotes votes, TimeProvider time)
{
    private long _revision;
    private volatile bool _live;

    /// <summary>True while the stream delivers: the views are as current as etcd's, with no read needed.</summary>
    public bool Live => _live;

    /// <summary>Until stopped; <paramref name="changed"/> runs after every change taken (it must not throw).</summary>
    public async Task RunAsync(Func<CancellationToken, Task> changed, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (_revision == 0)
                {
                    var (kvs, revision) = await etcd.ReadPrefixAsync(prefix, stoppingToken);
                    votes.Update(kvs, revision);
                    _revision = revision;
                    await changed(stoppingToken);
                }

                await foreach (var batch in etcd.WatchAsync(prefix, _revision + 1, stoppingToken))
                {
                    _live = true;
                    votes.Apply(batch);
                    _revision = Math.Max(_revision, batch.Max(e => e.Kv.ModRevision));
                    await changed(stoppingToken);
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
