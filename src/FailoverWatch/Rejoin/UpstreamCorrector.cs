using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FailoverWatch.Rejoin;

/// <summary>
/// Points a healthy standby that follows the wrong upstream (<see cref="WrongUpstream"/>) at the primary without a
/// restart: its own <c>primary_conninfo</c> with the primary's host and port, through <c>ALTER SYSTEM</c> and
/// <c>pg_reload_conf()</c> (PostgreSQL 13 and later restart the WAL receiver on it). Only standbys with a
/// rejoin_command: a cascade meant as one gets none. Every query is bounded by one probe timeout; a failure is
/// logged and the next check tries again.
/// </summary>
internal sealed class UpstreamCorrector(FailoverWatchOptions options, TimeProvider time, ILogger logger)
{
    private const string Streaming = "SELECT coalesce(application_name, '') FROM pg_stat_replication WHERE state = 'streaming'";

    /// <param name="leaveAlone">Nodes with a rejoin pending: about to restart anyway.</param>
    public async Task CheckAsync(ClusterView view, string primary, IReadOnlySet<string> leaveAlone, CancellationToken cancellationToken)
    {
        var managed = options.Cluster.Nodes
            .Where(n => n.Name != primary && !leaveAlone.Contains(n.Name) && n.HasRejoinCommand() && view.Find(n.Name) is { IsStreaming: true })
            .Select(n => n.Name)
            .ToList();
        if (managed.Count == 0)
        {
            return;
        }

        var fromPrimary = await QueryAsync(primary, Streaming, cancellationToken);
        if (fromPrimary is null || managed.All(m => fromPrimary.Contains(m, StringComparer.OrdinalIgnoreCase)))
        {
            return;
        }

        var fromOthers = new Dictionary<string, IReadOnlyCollection<string>>(StringComparer.Ordinal);
        foreach (var other in options.Cluster.Nodes.Where(n => n.Name != primary && view.Find(n.Name) is { Report.Reachable: true }))
        {
            if (await QueryAsync(other.Name, Streaming, cancellationToken) is { } names)
            {
                fromOthers[other.Name] = names;
            }
        }

        foreach (var (standby, upstream) in WrongUpstream.Find(managed, fromPrimary, fromOthers))
        {
            await RepointAsync(standby, upstream, primary, cancellationToken);
        }
    }

    private async Task RepointAsync(string standby, string upstream, string primary, CancellationToken cancellationToken)
    {
        var target = options.Cluster.Node(primary);
        try
        {
            await BoundedAsync(standby, async connection =>
            {
                // Its own settings (user, password, TLS) are kept: only where it connects, and its name, change.
                string current;
                await using (var show = new NpgsqlCommand("SHOW primary_conninfo", connection))
                {
                    current = (string)(await show.ExecuteScalarAsync(cancellationToken))!;
                }

                var conninfo = Conninfo.Parse(current).With("host", target.Host).With("port", target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    .With("application_name", standby).ToString();
                // ALTER SYSTEM takes no parameters, and refuses the implicit transaction of a batch: two commands, a quoted literal.
                await using (var alter = new NpgsqlCommand($"ALTER SYSTEM SET primary_conninfo = '{conninfo.Replace("'", "''", StringComparison.Ordinal)}'", connection))
                {
                    await alter.ExecuteNonQueryAsync(cancellationToken);
                }

                await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
                await reload.ExecuteNonQueryAsync(cancellationToken);
                return true;
            }, cancellationToken);
            logger.UpstreamRepointed(standby, upstream, primary);
        }
        catch (Exception e) when (e is NpgsqlException or FormatException or TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.UpstreamRepointFailed(standby, primary, e.Message);
        }
    }

    private async Task<IReadOnlyCollection<string>?> QueryAsync(string node, string sql, CancellationToken cancellationToken)
    {
        try
        {
            return await BoundedAsync(node, async connection =>
            {
                var names = new List<string>();
                await using var command = new NpgsqlCommand(sql, connection);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    names.Add(reader.GetString(0));
                }

                return names;
            }, cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>Within one probe timeout, even when the driver ignores cancellation mid-handshake (a hung node).</summary>
    private async Task<T> BoundedAsync<T>(string node, Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Monitor.ProbeTimeout);
        return await RunAsync().WaitAsync(options.Monitor.ProbeTimeout, time, cancellationToken);

        async Task<T> RunAsync()
        {
            await using var dataSource = NodeConnectionStrings.DataSourceFor(options.Cluster.Node(node));
            await using var connection = await dataSource.OpenConnectionAsync(deadline.Token);
            return await work(connection);
        }
    }
}
