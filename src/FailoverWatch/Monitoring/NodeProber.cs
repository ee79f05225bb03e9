using System.Globalization;
using FailoverWatch.Configuration;
using Npgsql;

namespace FailoverWatch.Monitoring;

/// <summary>
/// Probes one node: one query for role, WAL positions, replay delay and WAL receiver, and with
/// <c>write_probe</c> a heartbeat commit on a primary. Never throws and never outlives <c>probe_timeout</c>,
/// even when the server hangs mid-query or never finishes the TCP handshake.
/// A connection that answered is kept for the next probes, so the server does not fork a backend every
/// second; it is replaced after <see cref="ProbesPerConnection"/> probes and dropped on any failure. A kept
/// connection found broken (the backend terminated, the server restarted) is no finding by itself: the probe
/// goes on with a fresh connection, so only what a fresh connection sees counts as a failed probe.
/// </summary>
internal sealed class NodeProber : IAsyncDisposable
{
    /// <summary>
    /// Every tenth probe connects afresh: a server that answers on old connections but accepts no new ones
    /// (its postmaster stopped alone, max_connections reached, pg_hba.conf changed) fails within ten probes.
    /// </summary>
    public const int ProbesPerConnection = 10;

    // One round trip. Only functions the pg_monitor role may call.
    private const string StateQuery = """
        SELECT pg_is_in_recovery(),
               current_setting('default_transaction_read_only') = 'on',
               CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,
               pg_last_wal_receive_lsn()::text,
               pg_last_wal_replay_lsn()::text,
               pg_last_xact_replay_timestamp(),
               clock_timestamp(),
               CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END,
               CASE WHEN pg_is_in_recovery() THEN r.received_tli
                    ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
               r.status, r.last_msg_receipt_time, r.sender_host, r.sender_port
        FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS r ON true
        """;

    private const string HeartbeatSetup = """
        CREATE SCHEMA IF NOT EXISTS failoverwatch;
        CREATE TABLE IF NOT EXISTS failoverwatch.heartbeat (monitor text PRIMARY KEY, beat_at timestamptz NOT NULL)
        """;

    private const string HeartbeatWrite = """
        INSERT INTO failoverwatch.heartbeat (monitor, beat_at) VALUES ('failoverwatch', clock_timestamp())
        ON CONFLICT (monitor) DO UPDATE SET beat_at = excluded.beat_at
        """;

    private readonly NodeOptions _node;
    private readonly TimeSpan _timeout;
    private readonly bool _writeProbe;
    private readonly TimeProvider _time;
    private readonly NpgsqlDataSource _dataSource;
    private volatile bool _heartbeatTableReady;
    private NpgsqlConnection? _kept;
    private int _keptProbes;

    public NodeProber(NodeOptions node, MonitorOptions monitor, TimeProvider time)
    {
        _node = node;
        _timeout = monitor.ProbeTimeout;
        _writeProbe = monitor.WriteProbe;
        _time = time;
        var builder = NodeConnectionStrings.For(node);
        // Npgsql's own connect timeout is only a backstop, a second later than ours: the probe's deadline decides.
        builder.Timeout = (int)Math.Ceiling(_timeout.TotalSeconds) + 1;
        // A blocked heartbeat commit must fail inside the probe, and say so, not just time out.
        builder.Options = string.Create(CultureInfo.InvariantCulture, $"-c statement_timeout={(int)Math.Max(1, _timeout.TotalMilliseconds * 0.8)}");
        _dataSource = NodeConnectionStrings.WithoutTypeLoading(builder);
    }

    public string NodeName => _node.Name;

    public async Task<NodeReport> ProbeAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var probedAt = _time.GetUtcNow();
        var stage = new ProbeStage();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        var probe = ProbeCoreAsync(probedAt, stage, deadline.Token);
        try
        {
            // WaitAsync bounds the probe even if a driver call ignores cancellation; the orphaned task ends on its own.
            var report = await probe.WaitAsync(_timeout, _time, cancellationToken);
            return report with { Duration = _time.GetElapsedTime(started) };
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && (deadline.IsCancellationRequested || IsTimeout(e)))
        {
            // The driver may fail on the deadline's cancellation a moment before WaitAsync's own timer fires:
            // either way the node did not answer in time.
            return Failed(probedAt, started, TimedOut(stage));
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException or IOException or InvalidOperationException or FormatException)
        {
            var kind = stage.Current == ProbeStage.Writing ? ProbeFailureKind.WriteFailed : ProbeFailureKind.Unreachable;
            var message = e is PostgresException pg ? pg.MessageText : e.InnerException?.Message ?? e.Message;
            return Failed(probedAt, started, new ProbeFailure(kind, message));
        }
    }

    private static bool IsTimeout(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is TimeoutException or OperationCanceledException)
            {
                return true;
            }
        }

        return false;
    }

    private ProbeFailure TimedOut(ProbeStage stage)
    {
        var ms = _timeout.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);
        return stage.Current switch
        {
            ProbeStage.Writing => new ProbeFailure(ProbeFailureKind.WriteFailed, $"heartbeat commit did not finish within {ms} ms"),
            ProbeStage.Querying => new ProbeFailure(ProbeFailureKind.Timeout, $"no answer to the state query within {ms} ms"),
            _ => new ProbeFailure(ProbeFailureKind.Timeout, $"no connection within {ms} ms"),
        };
    }

    private NodeReport Failed(DateTimeOffset probedAt, long started, ProbeFailure failure) =>
        NodeReport.Failed(_node.Name, probedAt, _time.GetElapsedTime(started), failure);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _kept, null) is { } kept)
        {
            await kept.DisposeAsync();
        }

        await _dataSource.DisposeAsync();
    }

    private async Task<NodeReport> ProbeCoreAsync(DateTimeOffset probedAt, ProbeStage stage, CancellationToken cancellationToken)
    {
        // Taken, not shared: a probe still hanging from an earlier round keeps its own connection.
        if (Interlocked.Exchange(ref _kept, null) is { } kept)
        {
            if (++_keptProbes <= ProbesPerConnection)
            {
                try
                {
                    return await QueryAsync(kept, probedAt, stage, cancellationToken);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested && kept.State != System.Data.ConnectionState.Open)
                {
                    // Broken under us (terminated backend, restart): a fresh connection decides below.
                    stage.Current = ProbeStage.Connecting;
                }
            }
            else
            {
                await kept.DisposeAsync();
            }
        }

        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        _keptProbes = 1;
        return await QueryAsync(connection, probedAt, stage, cancellationToken);
    }

    /// <summary>The probe's statements on <paramref name="connection"/>; kept for the next probe when they succeed, else closed.</summary>
    private async Task<NodeReport> QueryAsync(NpgsqlConnection connection, DateTimeOffset probedAt, ProbeStage stage, CancellationToken cancellationToken)
    {
        try
        {
            var report = await StateAndHeartbeatAsync(connection, probedAt, stage, cancellationToken);
            if (Interlocked.Exchange(ref _kept, connection) is { } displaced)
            {
                await displaced.DisposeAsync();
            }

            return report;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task<NodeReport> StateAndHeartbeatAsync(NpgsqlConnection connection, DateTimeOffset probedAt, ProbeStage stage, CancellationToken cancellationToken)
    {
        stage.Current = ProbeStage.Querying;
        NodeReport report;
        await using (var command = new NpgsqlCommand(StateQuery, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            report = Read(reader, probedAt);
        }

        if (_writeProbe && report.Role == NodeRole.Primary)
        {
            stage.Current = ProbeStage.Writing;
            await WriteHeartbeatAsync(connection, cancellationToken);
        }

        return report;
    }

    private async Task WriteHeartbeatAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (!_heartbeatTableReady)
        {
            await using var setup = new NpgsqlCommand(HeartbeatSetup, connection);
            await setup.ExecuteNonQueryAsync(cancellationToken);
            _heartbeatTableReady = true;
        }

        await using var write = new NpgsqlCommand(HeartbeatWrite, connection);
        await write.ExecuteNonQueryAsync(cancellationToken);
    }

    private NodeReport Read(NpgsqlDataReader reader, DateTimeOffset probedAt)
    {
        var inRecovery = reader.GetBoolean(0);
        var readOnly = reader.GetBoolean(1);
        return new NodeReport
        {
            Node = _node.Name,
            ProbedAt = probedAt,
            Duration = TimeSpan.Zero,
            Role = inRecovery ? NodeRole.Standby : NodeRole.Primary,
            Writable = !inRecovery && !readOnly,
            CurrentLsn = Lsn.ParseOrNull(NullableString(reader, 2)),
            ReceiveLsn = Lsn.ParseOrNull(NullableString(reader, 3)),
            ReplayLsn = Lsn.ParseOrNull(NullableString(reader, 4)),
            LastReplayedTransactionAt = NullableTime(reader, 5),
            ServerTime = NullableTime(reader, 6),
            ReplayPaused = reader.GetBoolean(7),
            Timeline = reader.IsDBNull(8) ? null : reader.GetInt32(8),
            WalReceiver = reader.IsDBNull(9)
                ? null
                : new WalReceiverState(
                    reader.GetString(9),
                    NullableTime(reader, 10),
                    NullableString(reader, 11),
                    reader.IsDBNull(12) ? null : reader.GetInt32(12)),
        };
    }

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

    /// <summary>How far a probe got, so a timeout can say where it stuck.</summary>
    private sealed class ProbeStage
    {
        public const int Connecting = 0;
        public const int Querying = 1;
        public const int Writing = 2;

        public volatile int Current = Connecting;
    }
}
