using System.Diagnostics;
using FailoverWatch.LocalServers;
using Npgsql;

namespace FailoverWatch.Soak;

/// <summary>
/// Watches a round from outside the monitor: each node's role straight from the server every 100 ms (so
/// promotions are timed independently of the monitor), and the monitor's <c>/healthz</c> every 250 ms.
/// </summary>
internal sealed class ClusterObserver : IAsyncDisposable
{
    private static readonly TimeSpan NodeEvery = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan HealthEvery = TimeSpan.FromMilliseconds(250);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly Stopwatch _clock;
    private readonly Dictionary<string, TimeSpan> _promotedAt = [];
    private readonly List<string> _healthFailures = [];
    private readonly BackgroundWork _work;
    private volatile bool _monitorDownOnPurpose;

    public ClusterObserver(ISoakCluster cluster, Stopwatch clock)
    {
        _clock = clock;
        _work = new BackgroundWork(stop => Task.WhenAll([.. cluster.Nodes.Select(n => WatchNodeAsync(n, stop)), WatchHealthAsync(cluster, stop)]));
    }

    /// <summary>When each node was first seen writable after having been seen a standby (the round clock).</summary>
    public IReadOnlyDictionary<string, TimeSpan> PromotedAt
    {
        get
        {
            lock (_promotedAt)
            {
                return new Dictionary<string, TimeSpan>(_promotedAt);
            }
        }
    }

    /// <summary>Every moment <c>/healthz</c> did not answer 200 while the monitor was meant to be running.</summary>
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

    /// <summary>While set, the monitor is down because the soak killed it: <c>/healthz</c> is not expected to answer.</summary>
    public bool MonitorDownOnPurpose
    {
        set => _monitorDownOnPurpose = value;
    }

    /// <summary>Whether <paramref name="node"/> answers now and is writable; null when it does not answer within a second.</summary>
    public static async Task<bool?> IsWritableAsync(LocalPostgresServer node, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(1.5));
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(node.ConnectionString()) { Timeout = 1, CommandTimeout = 1, CancellationTimeout = -1, ApplicationName = "soak-observer" };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(deadline.Token);
            await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
            return !(bool)(await command.ExecuteScalarAsync(deadline.Token))!;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException or IOException)
        {
            // Also when the round stops it mid-connect (a refused connection is no OperationCanceledException): the caller's next wait ends it.
            return null;
        }
    }

    public ValueTask DisposeAsync() => _work.DisposeAsync();

    private async Task WatchNodeAsync(LocalPostgresServer node, CancellationToken stop)
    {
        var wasStandby = false;
        while (!stop.IsCancellationRequested)
        {
            var writable = await IsWritableAsync(node, stop);
            if (writable == false)
            {
                wasStandby = true;
            }
            else if (writable == true && wasStandby)
            {
                wasStandby = false;
                lock (_promotedAt)
                {
                    _promotedAt.TryAdd(node.Name, _clock.Elapsed);
                }
            }

            await Task.Delay(NodeEvery, stop);
        }
    }

    private async Task WatchHealthAsync(ISoakCluster cluster, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (!_monitorDownOnPurpose && cluster.Monitor is { } monitor)
            {
                string? failure;
                try
                {
                    using var response = await Http.GetAsync(new Uri(monitor.BaseAddress, "healthz"), stop);
                    failure = response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !stop.IsCancellationRequested)
                {
                    failure = e.Message;
                }

                // A kill may land between the check above and the request: only a failure while still not on purpose counts.
                if (failure is not null && !_monitorDownOnPurpose)
                {
                    lock (_healthFailures)
                    {
                        _healthFailures.Add($"{_clock.Elapsed.TotalSeconds:0.0}s: {failure}");
                    }
                }
            }

            await Task.Delay(HealthEvery, stop);
        }
    }
}
