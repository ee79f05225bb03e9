using FailoverWatch.State;
using Mvccpb;

namespace FailoverWatch.Coordination;

/// <summary>
/// What the monitors see, as this monitor last read or was told by its watch. A view's age is how long ago this
/// monitor first received its etcd revision, on its own monotonic clock: every monitor republishes an unchanged view
/// every third of <c>maxAge</c> (<see cref="ClusterCoordination"/>), so a revision unchanged for <c>maxAge</c> is a
/// monitor that stopped publishing (hung, or unable to write), which stops counting as live. The publisher's clock is never compared with this one.
/// Reads and the watch arrive in any order, so each is taken only when it is not older than what is already applied.
/// </summary>
internal sealed class MonitorVotes(string ownName, TimeSpan maxAge, TimeProvider time)
{
    private readonly Lock _lock = new();
    private volatile IReadOnlyDictionary<string, Received> _views = new Dictionary<string, Received>();
    private long _revision;

    /// <summary>Every registered monitor, this one included, fresh or not (for <c>/status</c> and forwarding).</summary>
    public IReadOnlyList<MonitorView> All => [.. _views.Values.Select(r => r.View).OrderBy(v => v.Name, StringComparer.Ordinal)];

    /// <summary>
    /// Takes all the monitors' keys as read at <paramref name="revision"/>; a read older than the watch's last change
    /// is ignored. A revision already seen keeps the time it was first received.
    /// </summary>
    public void Update(IEnumerable<KeyValue> monitorKeys, long revision)
    {
        lock (_lock)
        {
            if (revision < _revision)
            {
                return;
            }

            var before = _views;
            var views = new Dictionary<string, Received>(StringComparer.Ordinal);
            foreach (var kv in monitorKeys)
            {
                if (Receive(kv, before) is { } received)
                {
                    views[received.View.Name] = received;
                }
            }

            (_views, _revision) = (views, revision);
        }
    }

    /// <summary>Takes a watch's changes; those a read already covered are taken again harmlessly.</summary>
    public void Apply(IReadOnlyList<Event> events)
    {
        lock (_lock)
        {
            var views = new Dictionary<string, Received>(_views, StringComparer.Ordinal);
            foreach (var change in events)
            {
                if (change.Type == Event.Types.EventType.Delete)
                {
                    // monitors/NAME: a view names its monitor, a deletion only its key.
                    var key = change.Kv.Key.ToStringUtf8();
                    views.Remove(key[(key.LastIndexOf('/') + 1)..]);
                }
                else if (Receive(change.Kv, views) is { } received)
                {
                    views[received.View.Name] = received;
                }

                _revision = Math.Max(_revision, change.Kv.ModRevision);
            }

            _views = views;
        }
    }

    /// <summary>The live monitors' votes: the others' fresh views and this monitor's own view as of now.</summary>
    public MonitorQuorum Quorum(MonitorView own, int failureThreshold) => Count(
        [.. _views.Values.Where(r => r.View.Name != ownName && time.GetElapsedTime(r.At) <= maxAge).Select(r => r.View), own],
        own.Primary,
        failureThreshold);

    private Received? Receive(KeyValue kv, IReadOnlyDictionary<string, Received> before) =>
        MonitorView.Parse(kv.Value.Span) is not { } view ? null
        : before.TryGetValue(view.Name, out var seen) && seen.Revision == kv.ModRevision ? seen
        : new Received(view, kv.ModRevision, time.GetTimestamp());

    private sealed record Received(MonitorView View, long Revision, long At);

    /// <summary>
    /// Counts the votes of the live monitors' views (this type leaves out those no longer
    /// published): a view judging another primary is a live monitor that does not see the primary down.
    /// </summary>
    public static MonitorQuorum Count(IReadOnlyCollection<MonitorView> views, string? primary, int failureThreshold) => new(
        views.Count,
        [.. views
            .Where(v => primary is not null && v.Primary == primary && v.PrimaryFailures >= failureThreshold)
            .Select(v => v.Name)
            .Order(StringComparer.Ordinal)])
    {
        LastWritable = AgreedLastWritable(views),
    };

    /// <summary>
    /// The node taken for the primary when etcd records none: never on a minority's word. The same count as a failover
    /// needs (one monitor alone decides alone, several need a strict majority and at least two), and no live monitor
    /// naming another node.
    /// </summary>
    private static string? AgreedLastWritable(IReadOnlyCollection<MonitorView> views)
    {
        var named = views.Select(v => v.LastWritable).OfType<string>().ToList();
        if (named.Distinct(StringComparer.Ordinal).ToList() is not [var node])
        {
            return null;
        }

        var agree = named.Count;
        return views.Count < 2 || (agree >= 2 && agree * 2 > views.Count) ? node : null;
    }
}
