using FailoverWatch.Configuration;
using Npgsql;

namespace FailoverWatch.Monitoring;

/// <summary>
/// Connection strings for a node. Never pooled: a pool could hand back an idle socket to a dead or hung
/// server that only looks alive. The prober keeps its one connection itself, and drops it on any doubt.
/// The password comes from <c>password_file</c>; without one, Npgsql reads PGPASSWORD or ~/.pgpass.
/// </summary>
internal static class NodeConnectionStrings
{
    public static NpgsqlConnectionStringBuilder For(NodeOptions node, string? user = null, string? passwordFile = null)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = node.Host,
            Port = node.Port,
            Username = user ?? node.User,
            Database = node.Database,
            ApplicationName = "failoverwatch",
            Pooling = false,
            // Bounded by the caller's cancellation; on cancel, drop the socket rather than wait for the server.
            CancellationTimeout = -1,
            Timeout = 30,
        };
        var file = passwordFile ?? (user is null ? node.PasswordFile : null);
        if (file is not null)
        {
            builder.Password = File.ReadAllText(file).TrimEnd('\r', '\n');
        }

        return builder;
    }

    /// <summary>
    /// A data source that skips Npgsql's type catalog query: the monitor reads only built-in types, and
    /// a cold first connection (a new process, a failover) then costs one round trip less. Slim: only the
    /// built-in types are mapped, so the native binary carries none of the others' code.
    /// </summary>
    public static NpgsqlDataSource WithoutTypeLoading(NpgsqlConnectionStringBuilder builder) => WithoutTypeLoading(builder.ConnectionString);

    /// <summary>A data source for the monitor's own role on <paramref name="node"/>, without type loading.</summary>
    public static NpgsqlDataSource DataSourceFor(NodeOptions node) => WithoutTypeLoading(For(node));

    /// <inheritdoc cref="WithoutTypeLoading(NpgsqlConnectionStringBuilder)"/>
    public static NpgsqlDataSource WithoutTypeLoading(string connectionString)
    {
        var dataSource = new NpgsqlSlimDataSourceBuilder(connectionString);
        dataSource.ConfigureTypeLoading(types => types.EnableTypeLoading(false));
        return dataSource.Build();
    }
}
