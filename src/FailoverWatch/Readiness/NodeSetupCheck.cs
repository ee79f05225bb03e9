using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;
using Npgsql;

namespace FailoverWatch.Readiness;

/// <summary>
/// Asks each reachable node, as the monitor's own role, what a failover and the rejoin after it need: pg_monitor,
/// EXECUTE on pg_promote, pg_checkpoint (the CHECKPOINT pg_rewind relies on), and wal_log_hints or data checksums.
/// A standby with hot_standby off refuses every connection: that refusal is named here, the other reasons a node
/// is unreachable by <see cref="StandbyStateCheck"/>.
/// </summary>
internal sealed class NodeSetupCheck : IReadinessCheck
{
    // Superusers are members of every role and may execute every function, so they pass without grants.
    // pg_checkpoint exists from PostgreSQL 15; before it, CHECKPOINT needs a superuser.
    private const string Query = """
        SELECT pg_has_role('pg_monitor', 'MEMBER'),
               has_function_privilege('pg_catalog.pg_promote(boolean, integer)', 'EXECUTE'),
               CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = 'pg_checkpoint') THEN pg_has_role('pg_checkpoint', 'MEMBER')
                    ELSE (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) END,
               current_setting('wal_log_hints')::bool,
               current_setting('data_checksums')::bool
        """;

    public async Task<IReadOnlyList<ReadinessProblem>> CheckAsync(ReadinessContext context, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(context.Options.Cluster.Nodes.Select(n =>
            CheckNodeAsync(n, context.View.Find(n.Name)?.Report.Reachable == true, context.Options.Monitor.ProbeTimeout * 2, cancellationToken)));
        return [.. results.SelectMany(r => r)];
    }

    private static async Task<IReadOnlyList<ReadinessProblem>> CheckNodeAsync(NodeOptions node, bool reachable, TimeSpan within, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(within);
        try
        {
            // Error detail on: a refusal's reason (hot standby disabled) is only in its DETAIL, which Npgsql redacts by default.
            var connection = NodeConnectionStrings.For(node);
            connection.IncludeErrorDetail = true;
            await using var dataSource = NodeConnectionStrings.WithoutTypeLoading(connection);
            await using var session = await dataSource.OpenConnectionAsync(deadline.Token);
            await using var command = new NpgsqlCommand(Query, session);
            await using var reader = await command.ExecuteReaderAsync(deadline.Token);
            await reader.ReadAsync(deadline.Token);
            var problems = new List<ReadinessProblem>();
            void Unless(int column, string problem)
            {
                if (!reader.GetBoolean(column))
                {
                    problems.Add(new ReadinessProblem(node.Name, problem));
                }
            }

            Unless(0, $"role {node.User} is not a member of pg_monitor: probes cannot read replication state");
            Unless(1, $"role {node.User} may not EXECUTE pg_promote(): the monitor cannot promote this node (GRANT EXECUTE ON FUNCTION pg_promote TO {node.User})");
            Unless(2, $"role {node.User} lacks pg_checkpoint: no CHECKPOINT after promoting this node, so pg_rewind of the old primary rewinds nothing (GRANT pg_checkpoint TO {node.User})");
            if (!reader.GetBoolean(3) && !reader.GetBoolean(4))
            {
                problems.Add(new ReadinessProblem(node.Name, "neither wal_log_hints nor data checksums: pg_rewind cannot bring it back as a standby after a failover"));
            }

            return problems;
        }
        catch (PostgresException e) when (e.Detail?.Contains("Hot standby mode is disabled", StringComparison.Ordinal) == true)
        {
            return [new ReadinessProblem(node.Name, "hot_standby is off: the standby refuses every connection, so the monitor can neither probe nor promote it")];
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            if (!reachable)
            {
                return [];
            }

            var why = e is OperationCanceledException ? $"no answer within {within.TotalSeconds:0.#}s" : (e as PostgresException)?.MessageText ?? e.Message;
            return [new ReadinessProblem(node.Name, $"cannot check its grants and settings: {why}")];
        }
    }
}
