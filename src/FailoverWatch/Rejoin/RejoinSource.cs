using System.Globalization;
using System.Text;
using FailoverWatch.Monitoring;
using Npgsql;

namespace FailoverWatch.Rejoin;

/// <summary>The primary a node rejoins: what it says about itself, read with the source user's own rights.</summary>
internal sealed class RejoinSource(Conninfo conninfo)
{
    public sealed record Facts(bool IsPrimary, string SystemIdentifier, int Timeline, int CheckpointTimeline);

    public async Task<Facts> ReadAsync(CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT pg_is_in_recovery(), (SELECT system_identifier FROM pg_control_system())::text,
                   CASE WHEN pg_is_in_recovery() THEN 0 ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
                   (SELECT timeline_id FROM pg_control_checkpoint())
            """;
        return await QueryAsync(sql, null, r => new Facts(!r.GetBoolean(0), r.GetString(1), r.GetInt32(2), r.GetInt32(3)), cancellationToken);
    }

    /// <summary>pg_rewind reads the timeline from the source's control file, which only a checkpoint after the promotion updates.</summary>
    public Task CheckpointAsync(CancellationToken cancellationToken) => QueryAsync<object?>("CHECKPOINT", null, _ => null, cancellationToken);

    /// <summary>What a base backup of the source copies, near enough: every database (free space is checked against it).</summary>
    public Task<long> DatabasesSizeAsync(CancellationToken cancellationToken) =>
        QueryAsync("SELECT sum(pg_database_size(oid))::bigint FROM pg_database", null, r => r.GetInt64(0), cancellationToken);

    public async Task<(string Text, byte[] Bytes)> HistoryFileAsync(int timeline, CancellationToken cancellationToken)
    {
        var bytes = await QueryAsync("SELECT pg_read_binary_file('pg_wal/' || $1)", null, r => (byte[])r.GetValue(0), cancellationToken, TimelineHistory.FileName(timeline));
        return (Encoding.UTF8.GetString(bytes), bytes);
    }

    /// <summary>Whether the source has a walsender streaming to <paramref name="applicationName"/>.</summary>
    public Task<bool> StreamsToAsync(string applicationName, CancellationToken cancellationToken) =>
        QueryAsync("SELECT count(*) > 0 FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'", null, r => r.GetBoolean(0), cancellationToken, applicationName);

    /// <summary>
    /// Names relations by where they live on disk, as <c>database.schema.table</c>, through the source's catalog;
    /// one the source does not know (dropped, or created only on the diverged node) keeps its file locator.
    /// System catalogs are left out: every transaction touches them, and they are not what was lost.
    /// </summary>
    public async Task<IReadOnlyList<string>> NameRelationsAsync(IReadOnlyList<RelFileLocator> relations, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        foreach (var database in relations.GroupBy(r => r.Database))
        {
            string? databaseName = null;
            if (database.Key != 0)
            {
                databaseName = await QueryAsync("SELECT datname::text FROM pg_database WHERE oid = $1::oid", null, r => r.IsDBNull(0) ? null : r.GetString(0), cancellationToken, (long)database.Key);
            }

            foreach (var relation in database)
            {
                string? name = null;
                if (databaseName is not null)
                {
                    // pg_filenode_relation takes 0 for the database's default tablespace, which WAL writes as 1663.
                    name = await QueryAsync(
                        "SELECT CASE WHEN n.nspname IN ('pg_catalog', 'pg_toast') THEN '' ELSE n.nspname || '.' || c.relname END FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = pg_filenode_relation(CASE WHEN $1 = 1663 THEN 0 ELSE $1 END::oid, $2::oid)",
                        databaseName, r => r.IsDBNull(0) ? null : r.GetString(0), cancellationToken, (long)relation.Tablespace, (long)relation.FileNode);
                }

                if (name is "")
                {
                    continue;
                }

                names.Add(name is null ? string.Create(CultureInfo.InvariantCulture, $"{relation} (not on the source)") : $"{databaseName}.{name}");
            }
        }

        return names;
    }

    private async Task<T> QueryAsync<T>(string sql, string? database, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var dataSource = NodeConnectionStrings.WithoutTypeLoading(conninfo.ToNpgsql(database));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? read(reader) : default!;
    }
}
