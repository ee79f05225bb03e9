using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;
using FailoverWatch.State;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FailoverWatch.Replication;

/// <summary>
/// Carries out <see cref="SyncSetPolicy"/> on the primary each round: reads its replication state, then either
/// sets <c>synchronous_standby_names</c> (<c>ALTER SYSTEM</c> and <c>pg_reload_conf()</c>) or records the change in the
/// cluster state (file or etcd, through the same store as every other decision). A step that fails stops there: the
/// next round starts again from what the primary and the state say, so a state that cannot be written drops nothing.
/// </summary>
internal sealed class SyncStandbyManager(FailoverWatchOptions options, IClusterStateStore store, FailoverWatchMetrics metrics, TimeProvider time, ILogger<SyncStandbyManager> logger)
{
    // Read in this order: a WAL position read after the rows is one the standbys shown there as sync had to confirm.
    private const string ReadQuery = """
        SELECT coalesce(application_name, ''), state = 'streaming', sync_state, flush_lsn::text FROM pg_stat_replication;
        SELECT pid::text || '@' || coalesce(query_start::text, ''), coalesce(extract(epoch FROM clock_timestamp() - query_start), 0)::float8
        FROM pg_stat_activity WHERE wait_event = 'SyncRep';
        SELECT current_setting('synchronous_standby_names'), pg_current_wal_lsn()::text
        """;

    private readonly string _cluster = options.Cluster.Name;
    private SyncProgress _progress = SyncProgress.Start;
    private string? _primary;
    private bool _asyncChecked;
    private Task _running = Task.CompletedTask;

    /// <summary>The standbys the primary named at the last reading (or since set); null before any.</summary>
    private volatile IReadOnlyList<string>? _named;

    /// <summary>
    /// Whether commits may still wait on <paramref name="node"/>, so it must not be restarted yet: in <c>sync</c>, while
    /// it is recorded or the primary named it at the last reading. A node with a pending rejoin is no candidate
    /// (<see cref="Candidates"/>), so the rounds un-record it, then un-name it. <c>strict</c> never lets one go: commits
    /// wait while it restarts, which is what strict means.
    /// </summary>
    public bool Holds(string node) =>
        options.Replication.Mode == ReplicationModes.Sync
        && (store.Current.Replication.Standbys.Contains(node) || _named?.Contains(node, StringComparer.OrdinalIgnoreCase) == true);

    /// <summary>The nodes the primary may name: all but the primary and, in <c>sync</c>, those about to be rejoined (restarted).</summary>
    public static IReadOnlyList<string> Candidates(IEnumerable<string> nodes, string primary, string mode, IReadOnlyList<PendingRejoin> rejoins) =>
        [.. nodes.Where(n => n != primary && (mode != ReplicationModes.Sync || !rejoins.Any(r => r.Node == n)))];

    /// <summary>
    /// One round on the healthy <paramref name="primary"/>: read, decide, at most one change. Bounded by one probe timeout
    /// even when the driver ignores cancellation (a primary hung mid-handshake): the round holds the decision lock, so a
    /// hung primary must not hold back its own failover. A round still running from before is never overlapped: rounds skip until it ends.
    /// </summary>
    public async Task RunRoundAsync(string primary, CancellationToken cancellationToken)
    {
        var replication = options.Replication;
        var state = store.Current;
        if (state.Paused || (!replication.Synchronous && _asyncChecked && state.Replication.Standbys.Count == 0) || !_running.IsCompleted)
        {
            return;
        }

        _running = RunRoundCoreAsync(primary, cancellationToken);
        try
        {
            await _running.WaitAsync(options.Monitor.ProbeTimeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            logger.SyncStepFailed(primary, "reading the primary", $"no answer within {options.Monitor.ProbeTimeout.TotalMilliseconds:0} ms");
        }
    }

    private async Task RunRoundCoreAsync(string primary, CancellationToken cancellationToken)
    {
        var replication = options.Replication;

        if (primary != _primary)
        {
            _primary = primary;
            _progress = SyncProgress.Start;
        }

        // Within one probe timeout: the round holds the decision lock, and a hung primary must not delay its failover long.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Monitor.ProbeTimeout);
        SyncStep step = new SyncNothing("not read");
        try
        {
            await using var dataSource = DataSource(primary);
            await using var connection = await dataSource.OpenConnectionAsync(deadline.Token);
            var reading = await ReadAsync(connection, deadline.Token);
            _named = SyncStandbyNames.Parse(reading.Setting) ?? [];
            var settings = new SyncSettings(
                replication.Mode, replication.Number, replication.DegradeAfter, Candidates(options.Cluster.Nodes.Select(n => n.Name), primary, replication.Mode, store.Current.Rejoins));
            // A state write done, the next step may follow on the same reading (un-recorded, then un-named at once):
            // each is decided afresh from the state as written. A change on the server needs a new reading.
            for (var steps = 0; steps < 3; steps++)
            {
                var round = SyncSetPolicy.Decide(settings, reading, store.Current.Replication, _progress, time.GetUtcNow());
                step = round.Step;
                await CarryOutAsync(primary, step, connection, deadline.Token);
                _progress = round.Progress;
                if (step is not (SyncRecord or SyncUnrecord))
                {
                    break;
                }
            }

            _asyncChecked = true;
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException or IOException or UnauthorizedAccessException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.SyncStepFailed(primary, step.Reason, e is PostgresException pg ? pg.MessageText : e.Message);
        }
        finally
        {
            Publish(store.Current);
        }
    }

    /// <summary>
    /// Sets the promotion target's <c>synchronous_standby_names</c> (ALTER SYSTEM works on a standby): cleared in sync, so
    /// the new primary never waits on the fenced old one; in strict, any standby (<c>*</c>), so its commits wait until one
    /// confirms. Async leaves it alone. Only logged when it fails: the promotion goes on, and the first round fixes it.
    /// </summary>
    public async Task PrepareTargetAsync(string node, CancellationToken cancellationToken)
    {
        if (!options.Replication.Synchronous)
        {
            return;
        }

        var setting = options.Replication.Mode == ReplicationModes.Strict ? SyncStandbyNames.Any : "";
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(options.Monitor.ProbeTimeout * 2);
            await ResetAsync(node, setting, deadline.Token).WaitAsync(options.Monitor.ProbeTimeout * 2, time, cancellationToken);
            logger.SyncResetOnTarget(node, setting);
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException or IOException or TimeoutException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.SyncResetOnTargetFailed(node, e is PostgresException pg ? pg.MessageText : e.Message);
        }
    }

    private async Task ResetAsync(string node, string setting, CancellationToken cancellationToken)
    {
        await using var dataSource = DataSource(node);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await SetAsync(connection, setting, cancellationToken);
    }

    /// <summary><c>failoverwatch_sync_standby</c> and <c>failoverwatch_replication_degraded</c> from the state (on every monitor).</summary>
    public void Publish(FailoverState state)
    {
        foreach (var node in options.Cluster.Nodes)
        {
            metrics.SyncStandby.Set(state.Replication.Standbys.Contains(node.Name) ? 1 : 0, _cluster, node.Name);
        }

        metrics.ReplicationDegraded.Set(options.Replication.Synchronous && state.Replication.Standbys.Count < options.Replication.Number ? 1 : 0, _cluster);
    }

    private static async Task<PrimaryReplication> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(ReadQuery, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var standbys = new List<SyncStandbyRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            standbys.Add(new SyncStandbyRow(reader.GetString(0), !reader.IsDBNull(1) && reader.GetBoolean(1), reader.IsDBNull(2) ? null : reader.GetString(2), Lsn.ParseOrNull(reader.IsDBNull(3) ? null : reader.GetString(3))));
        }

        await reader.NextResultAsync(cancellationToken);
        var waiters = new List<SyncWaiter>();
        while (await reader.ReadAsync(cancellationToken))
        {
            waiters.Add(new SyncWaiter(reader.GetString(0), TimeSpan.FromSeconds(Math.Max(0, reader.GetDouble(1)))));
        }

        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new PrimaryReplication(reader.GetString(0), Lsn.Parse(reader.GetString(1)), standbys, waiters);
    }

    private async Task CarryOutAsync(string primary, SyncStep step, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        switch (step)
        {
            case SyncName name:
                await SetAsync(connection, name.Setting, cancellationToken);
                _named = name.Standbys;
                logger.SyncStep(primary, name.Reason);
                break;
            case SyncRecord record:
                await store.UpdateAsync(
                    s =>
                    {
                        var standbys = s.Replication.Standbys.Union(record.Standbys).ToList();
                        return s with { Replication = new SyncReplicationState { Standbys = standbys, DegradedSince = standbys.Count >= options.Replication.Number ? null : s.Replication.DegradedSince } };
                    },
                    cancellationToken);
                logger.SyncStep(primary, record.Reason);
                break;
            case SyncUnrecord unrecord:
                var now = time.GetUtcNow();
                await store.UpdateAsync(
                    s => s with { Replication = new SyncReplicationState { Standbys = [.. s.Replication.Standbys.Except(unrecord.Standbys)], DegradedSince = options.Replication.Synchronous ? s.Replication.DegradedSince ?? now : null } },
                    cancellationToken);
                if (unrecord.Degrade)
                {
                    logger.SyncDegraded(primary, unrecord.Reason);
                }
                else
                {
                    logger.SyncStep(primary, unrecord.Reason);
                }

                break;
        }
    }

    /// <summary>ALTER SYSTEM takes no parameters: the value is quoted as a literal (it holds only node names FailoverWatch wrote).</summary>
    private static async Task SetAsync(NpgsqlConnection connection, string setting, CancellationToken cancellationToken)
    {
        var literal = "'" + setting.Replace("'", "''", StringComparison.Ordinal) + "'";
        // Two commands: ALTER SYSTEM refuses to run in the implicit transaction of a batch.
        await using (var alter = new NpgsqlCommand($"ALTER SYSTEM SET synchronous_standby_names = {literal}", connection))
        {
            await alter.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
        await reload.ExecuteNonQueryAsync(cancellationToken);
    }

    private NpgsqlDataSource DataSource(string node) =>
        NodeConnectionStrings.DataSourceFor(options.Cluster.Node(node));
}
