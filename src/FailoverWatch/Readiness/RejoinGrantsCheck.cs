using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;
using Npgsql;

namespace FailoverWatch.Readiness;

/// <summary>
/// For each node with a <c>rejoin_command</c>: can its <c>rejoin_user</c> be pg_rewind's source on every other node
/// (each may be the primary it rejoins)? It needs LOGIN and REPLICATION, and superuser or EXECUTE on the functions
/// pg_rewind reads files with. Asked as the monitor's role, which may read any role's privileges.
/// </summary>
internal sealed class RejoinGrantsCheck : IReadinessCheck
{
    private const string Query = """
        SELECT rolcanlogin AND rolreplication AND (rolsuper OR (
                   has_function_privilege(oid, 'pg_catalog.pg_ls_dir(text, boolean, boolean)', 'EXECUTE')
               AND has_function_privilege(oid, 'pg_catalog.pg_stat_file(text, boolean)', 'EXECUTE')
               AND has_function_privilege(oid, 'pg_catalog.pg_read_binary_file(text)', 'EXECUTE')
               AND has_function_privilege(oid, 'pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)', 'EXECUTE')))
        FROM pg_roles WHERE rolname = $1
        """;

    public async Task<IReadOnlyList<ReadinessProblem>> CheckAsync(ReadinessContext context, CancellationToken cancellationToken)
    {
        var nodes = context.Options.Cluster.Nodes;
        var checks = nodes
            .Where(source => context.View.Find(source.Name)?.Report.Reachable == true)
            .SelectMany(source => nodes
                .Where(target => target.Name != source.Name && target.HasRejoinCommand())
                .Select(target => (Source: source, User: target.RejoinUser ?? target.User))
                .Distinct())
            .Select(c => CheckAsync(c.Source, c.User, context.Options.Monitor.ProbeTimeout * 2, cancellationToken));
        return [.. (await Task.WhenAll(checks)).OfType<ReadinessProblem>()];
    }

    private static async Task<ReadinessProblem?> CheckAsync(NodeOptions source, string user, TimeSpan within, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(within);
        try
        {
            await using var dataSource = NodeConnectionStrings.DataSourceFor(source);
            await using var session = await dataSource.OpenConnectionAsync(deadline.Token);
            await using var command = new NpgsqlCommand(Query, session) { Parameters = { new() { Value = user } } };
            return await command.ExecuteScalarAsync(deadline.Token) is true
                ? null
                : new ReadinessProblem(source.Name,
                    $"role {user} cannot be pg_rewind's source here, so rejoin_command cannot bring a node back from it: it needs LOGIN, REPLICATION and superuser or EXECUTE on pg_ls_dir(text, boolean, boolean), pg_stat_file(text, boolean), pg_read_binary_file(text) and pg_read_binary_file(text, bigint, bigint, boolean)");
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // An unreachable or unreadable node is named by the other checks.
            return null;
        }
    }
}
