using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Monitoring;
using Npgsql;

namespace FailoverWatch.Failover;

/// <summary>
/// Promotes a standby with <c>pg_promote()</c> and waits until it accepts writes; afterwards, a checkpoint on it so its
/// control file names the new timeline (a fast promotion leaves that to a later checkpoint, and until then pg_rewind
/// takes the new primary for one on the old timeline and rewinds nothing).
/// </summary>
internal sealed class NodePromoter(FailoverWatchOptions options, IMonitorLeadership? leadership = null)
{
    private readonly IMonitorLeadership _leadership = leadership ?? new SoleMonitor();

    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(10);

    /// <summary>Sends pg_promote and waits until the node accepts writes, within <paramref name="within"/>.</summary>
    /// <returns>Null on success, else why it failed.</returns>
    public async Task<string?> PromoteAsync(string node, TimeSpan within, CancellationToken cancellationToken) =>
        await RequestPromotionAsync(node, cancellationToken) ?? await WaitUntilWritableAsync(node, within, cancellationToken);

    /// <summary>Sends pg_promote without waiting: the server ends recovery once it has replayed what it holds.</summary>
    /// <returns>Null once the server took the request, else why it failed.</returns>
    public async Task<string?> RequestPromotionAsync(string node, CancellationToken cancellationToken) =>
        await _leadership.GuardActionAsync("promote", node, cancellationToken) is null
            ? "this monitor no longer leads: not promoting (the leader decides)"
            : await OnNodeAsync(node, options.Monitor.ProbeTimeout * 2, $"pg_promote was not answered within {(options.Monitor.ProbeTimeout * 2).TotalSeconds:0}s", cancellationToken, async (connection, token) =>
        {
            await using var promote = new NpgsqlCommand("SELECT pg_promote(false)", connection);
            await promote.ExecuteScalarAsync(token);
        });

    /// <returns>Null once the node accepts writes, else why it did not within <paramref name="within"/>.</returns>
    public Task<string?> WaitUntilWritableAsync(string node, TimeSpan within, CancellationToken cancellationToken) =>
        OnNodeAsync(node, within, $"{node} did not become writable within {within.TotalSeconds:0}s of pg_promote (monitor.promotion_timeout)", cancellationToken, async (connection, token) =>
        {
            // pg_promote(wait => true) checks only every 100 ms; polling on our own connection is quicker.
            // Writable means a transaction can be opened read-write: recovery has really ended.
            await using var check = new NpgsqlCommand("SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'", connection);
            while (await check.ExecuteScalarAsync(token) is not true)
            {
                await Task.Delay(PollEvery, token);
            }
        });

    /// <returns>Null on success, else why it failed.</returns>
    public Task<string?> CheckpointAsync(string node, TimeSpan timeout, CancellationToken cancellationToken) =>
        OnNodeAsync(node, timeout, $"not done within {timeout.TotalSeconds:0}s", cancellationToken, async (connection, token) =>
        {
            await using var checkpoint = new NpgsqlCommand("CHECKPOINT", connection) { CommandTimeout = 0 };
            await checkpoint.ExecuteNonQueryAsync(token);
        });

    /// <summary>Runs <paramref name="work"/> on a fresh connection to the node within <paramref name="within"/>: null, or why it failed.</summary>
    private async Task<string?> OnNodeAsync(string node, TimeSpan within, string late, CancellationToken cancellationToken, Func<NpgsqlConnection, CancellationToken, Task> work)
    {
        await using var dataSource = NodeConnectionStrings.DataSourceFor(options.Cluster.Node(node));
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(within);
            await using var connection = await dataSource.OpenConnectionAsync(deadline.Token);
            await work(connection, deadline.Token);
            return null;
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return e switch
            {
                PostgresException pg => pg.MessageText,
                OperationCanceledException => late,
                _ => e.Message,
            };
        }
    }
}
