using FailoverWatch.Monitoring;
using Npgsql;

namespace FailoverWatch.Backup.Restore;

/// <summary>Exact row counts of every user table of one database: recorded at dump time, compared after a restore test.</summary>
internal static class PostgresRowCounts
{
    private const string TablesSql = """
        SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
        ORDER BY 1
        """;

    public static async Task<SortedDictionary<string, long>> CountAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var dataSource = NodeConnectionStrings.WithoutTypeLoading(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var tables = new List<string>();
        await using (var command = new NpgsqlCommand(TablesSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                tables.Add(reader.GetString(0));
            }
        }

        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            // The name comes from quote_ident above, never from user input.
#pragma warning disable CA2100
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
#pragma warning restore CA2100
            counts[table] = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }

        return counts;
    }
}
