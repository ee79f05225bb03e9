using System.Collections.Concurrent;
using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;
using FailoverWatch.State;
using Npgsql;

namespace FailoverWatch.Drill;

/// <summary>
/// Writes numbered rows into <c>failoverwatch_drill_canary</c> the way an application would: through one multi-host
/// connection string with <c>target_session_attributes=primary</c>, a new connection per write. A write counts as
/// acknowledged only when its COMMIT returned; the windows between the first refused and the next accepted write
/// are what clients saw of the switchovers.
/// </summary>
internal sealed class CanaryWriter : IAsyncDisposable
{
    private const string Table = "failoverwatch_drill_canary";
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan CountPatience = TimeSpan.FromSeconds(15);

    private readonly NpgsqlDataSource _primary;
    private readonly TimeProvider _time;
    private readonly string _run;
    private readonly ConcurrentBag<long> _acknowledged = [];
    private readonly List<RefusedWindow> _windows = [];
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private DateTimeOffset? _refusedSince;

    public CanaryWriter(FailoverWatchOptions options, TimeProvider time)
    {
        var first = options.Cluster.Nodes[0];
        var builder = NodeConnectionStrings.For(first);
        builder.Host = string.Join(',', options.Cluster.Nodes.Select(n => $"{n.Host}:{n.Port}"));
        builder.TargetSessionAttributes = "primary";
        builder.ApplicationName = "failoverwatch-drill";
        builder.Timeout = (int)WriteTimeout.TotalSeconds;
        // A host found to be a standby is skipped for this long: short, the roles change twice in a drill.
        builder.HostRecheckSeconds = 1;
        _primary = NodeConnectionStrings.WithoutTypeLoading(builder);
        _time = time;
        _run = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
    }

    public int Acknowledged => _acknowledged.Count;

    public IReadOnlyList<RefusedWindow> RefusedWindows
    {
        get
        {
            lock (_windows)
            {
                return [.. _windows];
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using (var command = _primary.CreateCommand($"CREATE TABLE IF NOT EXISTS {Table} (run text NOT NULL, id bigint NOT NULL, written_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run, id))"))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        _loop = Task.Run(() => WriteLoopAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>
    /// Stops writing, then counts the acknowledged ids the current primary does not hold. Asked again for a while, as
    /// an application would: right after a quick switch back the connection string still takes both hosts for standbys
    /// (each is rechecked only after HostRecheckSeconds), which answers "No suitable host was found".
    /// </summary>
    public async Task<int> StopAndCountLostAsync(CancellationToken cancellationToken)
    {
        await StopAsync();
        var started = _time.GetTimestamp();
        while (true)
        {
            try
            {
                var present = await ReadIdsAsync(cancellationToken);
                return _acknowledged.Count(id => !present.Contains(id));
            }
            catch (NpgsqlException) when (_time.GetElapsedTime(started) < CountPatience)
            {
                await Task.Delay(Interval * 5, _time, cancellationToken);
            }
        }
    }

    private async Task<HashSet<long>> ReadIdsAsync(CancellationToken cancellationToken)
    {
        var present = new HashSet<long>();
        await using var command = _primary.CreateCommand($"SELECT id FROM {Table} WHERE run = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = _run });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            present.Add(reader.GetInt64(0));
        }

        return present;
    }

    private async Task StopAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }
    }

    private async Task WriteLoopAsync(CancellationToken stop)
    {
        for (long id = 1; !stop.IsCancellationRequested; id++)
        {
            var started = _time.GetUtcNow();
            var accepted = await TryWriteAsync(id, stop);
            if (!accepted && _refusedSince is null && !stop.IsCancellationRequested)
            {
                _refusedSince = started;
            }
            else if (accepted && _refusedSince is { } since)
            {
                lock (_windows)
                {
                    _windows.Add(new RefusedWindow(since, _time.GetUtcNow()));
                }

                _refusedSince = null;
            }

            try
            {
                await Task.Delay(Interval, _time, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<bool> TryWriteAsync(long id, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(WriteTimeout);
        try
        {
            await using var command = _primary.CreateCommand($"INSERT INTO {Table} (run, id) VALUES ($1, $2)");
            command.Parameters.Add(new NpgsqlParameter { Value = _run });
            command.Parameters.Add(new NpgsqlParameter { Value = id });
            await command.ExecuteNonQueryAsync(timeout.Token);
            _acknowledged.Add(id);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            // Refused, cut off or unanswered: not acknowledged, so not counted whether or not it committed.
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        await _primary.DisposeAsync();
    }
}
