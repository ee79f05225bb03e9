using System.Diagnostics;
using System.Globalization;

namespace FailoverWatch.Soak;

/// <summary>One answer of a monitor: when it was asked (round clock) and whether it said it leads; null when it did not answer.</summary>
internal sealed record LeaderSample(TimeSpan At, int Monitor, bool? Leads);

/// <summary>
/// Polls each of the three monitors every 250 ms, each in a loop of its own so a frozen one holds up no other:
/// <c>failoverwatch_is_leader</c> from <c>/metrics</c> for the leader timeline, and <c>/healthz</c> (200 within
/// 5 s) for the single soak's health check, except while the round has killed or frozen that monitor on purpose.
/// </summary>
internal sealed class MonitorWatch : IAsyncDisposable
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(250);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private static readonly string LeaderSeries = $"failoverwatch_is_leader{{cluster=\"{CoordinatedCluster.ClusterName}\"}} ";
    private readonly CoordinatedCluster _cluster;
    private readonly Stopwatch _clock;
    private readonly List<LeaderSample> _samples = [];
    private readonly List<string> _healthFailures = [];
    private readonly bool[] _downOnPurpose = new bool[CoordinatedCluster.MonitorCount];
    private readonly int[] _purposeChanges = new int[CoordinatedCluster.MonitorCount];
    private readonly BackgroundWork _work;

    public MonitorWatch(CoordinatedCluster cluster, Stopwatch clock)
    {
        _cluster = cluster;
        _clock = clock;
        _work = new BackgroundWork(stop => Task.WhenAll(Enumerable.Range(0, CoordinatedCluster.MonitorCount).Select(i => WatchAsync(i, stop))));
    }

    public IReadOnlyList<LeaderSample> Samples
    {
        get
        {
            lock (_samples)
            {
                return [.. _samples.OrderBy(s => s.At)];
            }
        }
    }

    public IReadOnlyList<string> HealthFailures
    {
        get
        {
            lock (_healthFailures)
            {
                return [.. _healthFailures];
            }
        }
    }

    /// <summary>While set, the monitor is killed or frozen by the round: it is not expected to answer.</summary>
    public void DownOnPurpose(int monitor, bool down)
    {
        Volatile.Write(ref _downOnPurpose[monitor], down);
        Interlocked.Increment(ref _purposeChanges[monitor]);
    }

    /// <summary>
    /// The longest stretch in [<paramref name="from"/>, <paramref name="to"/>] with no monitor saying it leads, the
    /// stretch counted from <paramref name="from"/> (no leader assumed there). A monitor's word counts from the
    /// moment it was asked until its next answer; <paramref name="excluded"/>'s not before <paramref name="excludedUntil"/>.
    /// </summary>
    public double LongestLeaderGap(TimeSpan from, TimeSpan to, int? excluded, TimeSpan excludedUntil)
    {
        var leads = new bool[CoordinatedCluster.MonitorCount];
        var noLeaderSince = (TimeSpan?)from;
        var longest = TimeSpan.Zero;
        foreach (var sample in Samples.Where(s => s.At >= from && s.At <= to))
        {
            leads[sample.Monitor] = sample.Leads == true && !(sample.Monitor == excluded && sample.At < excludedUntil);
            var any = leads.Any(l => l);
            if (any && noLeaderSince is { } since)
            {
                longest = Max(longest, sample.At - since);
                noLeaderSince = null;
            }
            else if (!any && noLeaderSince is null)
            {
                noLeaderSince = sample.At;
            }
        }

        if (noLeaderSince is { } open)
        {
            longest = Max(longest, to - open);
        }

        return longest.TotalSeconds;
    }

    /// <summary>Moments when two or more monitors said they led, each monitor's latest answer taken (reported, not judged: answers lag).</summary>
    public IReadOnlyList<string> TwoLeadersSeen()
    {
        var leads = new bool[CoordinatedCluster.MonitorCount];
        var seen = new List<string>();
        foreach (var sample in Samples)
        {
            leads[sample.Monitor] = sample.Leads == true;
            if (leads.Count(l => l) > 1)
            {
                seen.Add(string.Create(CultureInfo.InvariantCulture, $"{sample.At.TotalSeconds:0.0}s {string.Join(",", leads.Select((l, i) => l ? CoordinatedCluster.Name(i) : null).OfType<string>())}"));
            }
        }

        return seen;
    }

    public ValueTask DisposeAsync() => _work.DisposeAsync();

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private async Task WatchAsync(int monitor, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var asked = _clock.Elapsed;
            var changes = Volatile.Read(ref _purposeChanges[monitor]);
            bool? leads = null;
            string? failure = null;
            try
            {
                using var health = await Http.GetAsync(new Uri(_cluster.BaseAddress(monitor), "healthz"), stop);
                failure = health.IsSuccessStatusCode ? null : $"/healthz HTTP {(int)health.StatusCode}";
                var metrics = await Http.GetStringAsync(new Uri(_cluster.BaseAddress(monitor), "metrics"), stop);
                var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(LeaderSeries, StringComparison.Ordinal));
                leads = line is not null && line.EndsWith(" 1", StringComparison.Ordinal);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !stop.IsCancellationRequested)
            {
                failure = e.Message;
            }

            lock (_samples)
            {
                _samples.Add(new LeaderSample(asked, monitor, leads));
            }

            // A kill or freeze may overlap the request: only a failure with the monitor meant to run throughout counts.
            if (failure is not null && !Volatile.Read(ref _downOnPurpose[monitor]) && Volatile.Read(ref _purposeChanges[monitor]) == changes && _cluster.IsRunning(monitor))
            {
                lock (_healthFailures)
                {
                    _healthFailures.Add(string.Create(CultureInfo.InvariantCulture, $"{CoordinatedCluster.Name(monitor)} at {asked.TotalSeconds:0.0}s: {failure}"));
                }
            }

            await Task.Delay(Every, stop);
        }
    }
}
