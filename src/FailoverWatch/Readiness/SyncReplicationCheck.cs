using FailoverWatch.Monitoring;
using Npgsql;

namespace FailoverWatch.Readiness;

/// <summary>
/// With <c>replication.mode</c> sync or strict, asks the primary what zero loss needs: the grants to set
/// <c>synchronous_standby_names</c>, <c>synchronous_commit</c> on or remote_apply for every role and database (a lower
/// value acknowledges commits no standby confirmed), and each streaming standby under its node name (the primary
/// matches standbys by application_name, so a standby under another name is never named).
/// </summary>
internal sealed class SyncReplicationCheck : IReadinessCheck
{
    // Who may ALTER SYSTEM depends on the version (AlterSystemGrant).
    private static string Query(int serverMajor) => $"""
        SELECT {AlterSystemGrant.Sql("synchronous_standby_names", serverMajor)},
               has_function_privilege('pg_catalog.pg_reload_conf()', 'EXECUTE'),
               current_setting('synchronous_commit');
        SELECT coalesce('role ' || r.rolname, '') || CASE WHEN r.rolname IS NOT NULL AND d.datname IS NOT NULL THEN ' in ' ELSE '' END
                 || coalesce('database ' || d.datname, ''), split_part(s.setting, '=', 2)
        FROM pg_db_role_setting AS drs
             LEFT JOIN pg_roles AS r ON r.oid = drs.setrole
             LEFT JOIN pg_database AS d ON d.oid = drs.setdatabase,
             unnest(drs.setconfig) AS s(setting)
        WHERE lower(split_part(s.setting, '=', 1)) = 'synchronous_commit'
          AND lower(split_part(s.setting, '=', 2)) NOT IN ('on', 'remote_apply', 'true', 'yes', '1');
        SELECT coalesce(application_name, '') FROM pg_stat_replication
        """;

    public async Task<IReadOnlyList<ReadinessProblem>> CheckAsync(ReadinessContext context, CancellationToken cancellationToken)
    {
        var options = context.Options;
        if (!options.Replication.Synchronous || context.Primary is not { } primary || context.View.Find(primary) is not { IsReachablePrimary: true })
        {
            return [];
        }

        var node = options.Cluster.Node(primary);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Monitor.ProbeTimeout * 2);
        try
        {
            await using var dataSource = NodeConnectionStrings.DataSourceFor(node);
            await using var session = await dataSource.OpenConnectionAsync(deadline.Token);
            var major = session.PostgreSqlVersion.Major;
            await using var command = new NpgsqlCommand(Query(major), session);
            await using var reader = await command.ExecuteReaderAsync(deadline.Token);
            var problems = new List<ReadinessProblem>();
            void Problem(string problem) => problems.Add(new ReadinessProblem(primary, problem));

            await reader.ReadAsync(deadline.Token);
            if (!reader.GetBoolean(0))
            {
                Problem($"role {node.User} may not set synchronous_standby_names: synchronous replication cannot name a standby ({AlterSystemGrant.Fix(node.User, "synchronous_standby_names", major)})");
            }

            if (!reader.GetBoolean(1))
            {
                Problem($"role {node.User} may not EXECUTE pg_reload_conf(): a named standby never takes effect (GRANT EXECUTE ON FUNCTION pg_reload_conf TO {node.User})");
            }

            LowerCommit("the server", reader.GetString(2));
            await reader.NextResultAsync(deadline.Token);
            while (await reader.ReadAsync(deadline.Token))
            {
                LowerCommit(reader.GetString(0), reader.GetString(1));
            }

            void LowerCommit(string where, string value)
            {
                if (value is not ("on" or "remote_apply"))
                {
                    Problem($"synchronous_commit is {value} for {where}: its commits are acknowledged before a standby confirms them, and a failover may lose them (set it to on or remote_apply)");
                }
            }

            await reader.NextResultAsync(deadline.Token);
            var names = new List<string>();
            while (await reader.ReadAsync(deadline.Token))
            {
                names.Add(reader.GetString(0));
            }

            foreach (var standby in context.View.Nodes.Where(n => n.Name != primary && n.IsStreaming && !names.Contains(n.Name, StringComparer.OrdinalIgnoreCase)))
            {
                problems.Add(new ReadinessProblem(standby.Name, $"streams, but the primary's pg_stat_replication has no application_name '{standby.Name}' (it shows {(names.Count == 0 ? "none" : string.Join(", ", names.Select(n => $"'{n}'")))}): it is never named as a synchronous standby (set application_name={standby.Name} in its primary_conninfo)"));
            }

            return problems;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            var why = e is OperationCanceledException ? "no answer in time" : (e as PostgresException)?.MessageText ?? e.Message;
            return [new ReadinessProblem(primary, $"cannot check what synchronous replication needs: {why}")];
        }
    }
}
