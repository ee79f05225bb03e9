using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;
using Npgsql;

namespace FailoverWatch.Readiness;

/// <summary>
/// For each reachable standby with a <c>rejoin_command</c>: may the monitor's role point it at a new primary the way
/// <see cref="Rejoin.UpstreamCorrector"/> does, on it (<c>SHOW primary_conninfo</c>, <c>ALTER SYSTEM SET
/// primary_conninfo</c>, <c>pg_reload_conf()</c>)? Only with three nodes or more: with two, a standby can stream from
/// no node but the primary, so there is never one to repoint. Reading other nodes' <c>pg_stat_replication</c> needs
/// pg_monitor, which <see cref="NodeSetupCheck"/> asks for. Promoting the standby needs none of it, so it stays ready.
/// </summary>
internal sealed class RepointGrantsCheck : IReadinessCheck
{
    // Read-only functions, answered by a hot standby; a superuser passes each. Who may ALTER SYSTEM depends on the
    // version (AlterSystemGrant). primary_conninfo is superuser-only to read: SHOW needs the privileges of
    // pg_read_all_settings (USAGE, not MEMBER).
    private static string Query(int serverMajor) => $"""
        SELECT pg_has_role('pg_read_all_settings', 'USAGE'),
               {AlterSystemGrant.Sql("primary_conninfo", serverMajor)},
               has_function_privilege('pg_catalog.pg_reload_conf()', 'EXECUTE')
        """;

    public async Task<IReadOnlyList<ReadinessProblem>> CheckAsync(ReadinessContext context, CancellationToken cancellationToken)
    {
        var nodes = context.Options.Cluster.Nodes;
        if (nodes.Count < 3)
        {
            return [];
        }

        var checks = nodes
            .Where(n => n.Name != context.Primary && n.HasRejoinCommand() && context.View.Find(n.Name) is { IsReachableStandby: true })
            .Select(n => CheckAsync(n, context.Options.Monitor.ProbeTimeout * 2, cancellationToken));
        return [.. (await Task.WhenAll(checks)).OfType<ReadinessProblem>()];
    }

    /// <summary>The problem of a role short of some of these grants, naming the GRANT statements missing; null with all.</summary>
    public static string? Problem(string user, bool readSettings, bool alterSystem, bool reload, int serverMajor = AlterSystemGrant.ParameterGrantsFrom)
    {
        string[] missing =
        [
            .. readSettings ? [] : new[] { $"GRANT pg_read_all_settings TO {user}" },
            .. alterSystem ? [] : new[] { AlterSystemGrant.Fix(user, "primary_conninfo", serverMajor) },
            .. reload ? [] : new[] { $"GRANT EXECUTE ON FUNCTION pg_reload_conf() TO {user}" },
        ];
        return missing.Length == 0
            ? null
            : $"role {user} cannot point this standby at a new primary (SHOW and ALTER SYSTEM SET primary_conninfo, then pg_reload_conf()), so after a failover or switchover to another node it may keep streaming from the wrong upstream ({string.Join("; ", missing)})";
    }

    private static async Task<ReadinessProblem?> CheckAsync(NodeOptions standby, TimeSpan within, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(within);
        try
        {
            await using var dataSource = NodeConnectionStrings.DataSourceFor(standby);
            await using var session = await dataSource.OpenConnectionAsync(deadline.Token);
            var major = session.PostgreSqlVersion.Major;
            await using var command = new NpgsqlCommand(Query(major), session);
            await using var reader = await command.ExecuteReaderAsync(deadline.Token);
            await reader.ReadAsync(deadline.Token);
            return Problem(standby.User, reader.GetBoolean(0), reader.GetBoolean(1), reader.GetBoolean(2), major) is { } problem
                ? new ReadinessProblem(standby.Name, problem, SubjectStaysReady: true)
                : null;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // An unreachable or unreadable node is named by the other checks.
            return null;
        }
    }
}
