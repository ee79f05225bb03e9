using Mvccpb;

namespace FailoverWatch.Coordination;

/// <summary>
/// What the monitors see, as this monitor last read their keys. A view's age is how long ago this monitor first
/// read its etcd revision, on its own monotonic clock: every monitor republishes at least every tick, so a
/// revision unchanged for <c>maxAge</c> is a monitor that stopped publishing (hung, or unable to write), which
/// stops counting as live. The publisher's clock is never compared with this one.
/// </summary>
internal sealed class MonitorVotes(string ownName, TimeSpan maxAge, TimeProvider time)
{
    private volatile IReadOnlyDictionary<string, Received> _views = new Dictionary<string, Received>();

    /// <summary>Every registered monitor, this one included, fresh or not (for <c>/status</c> and forwarding).</summary>
    public IReadOnlyList<MonitorView> All => [.. _views.Values.Select(r => r.View).OrderBy(v => v.Name, StringComparer.Ordinal)];

    /// <summary>Takes the monitors' keys as read now; a revision already seen keeps the time it was first read.</summary>
    public void Update(IEnumerable<KeyValue> monitorKeys)
    {
        var before = _views;
        var now = time.GetTimestamp();
        var views = new Dictionary<string, Received>(StringComparer.Ordinal);
        foreach (var kv in monitorKeys)
        {
            if (MonitorView.Parse(kv.Value.Span) is not { } view)
            {
                continue;
            }

            views[view.Name] = before.TryGetValue(view.Name, out var seen) && seen.Revision == kv.ModRevision
                ? seen
                : new Received(view, kv.ModRevision, now);
        }

        _views = views;
    }

    /// <summary>The live monitors' votes: the others' fresh views and this monitor's own view as of now.</summary>
    public MonitorQuorum Quorum(MonitorView own, int failureThreshold) => MonitorQuorum.From(
        [.. _views.Values.Where(r => r.View.Name != ownName && time.GetElapsedTime(r.At) <= maxAge).Select(r => r.View), own],
        own.Primary,
        failureThreshold);

    private sealed record Received(MonitorView View, long Revision, long At);
}
