using FailoverWatch.LocalServers;
using FailoverWatch.Backup.Store;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Backup.Restore;

/// <summary>
/// Restores a dump into a scratch PostgreSQL (the machine's binaries, a temporary folder, a free loopback port) through
/// psql, then compares every database and table row count with what the manifest recorded at dump time.
/// </summary>
internal static class PostgresRestoreTest
{
    public static async Task<IReadOnlyList<string>> RunAsync(string backupDirectory, PostgresDumpInfo dump, CancellationToken cancellationToken)
    {
        var binaries = PostgresBinaries.Find();
        var parent = Path.Combine(Path.GetTempPath(), "fw-restore-test-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(parent);
        try
        {
            OsUser.GiveToServerAccount(parent);
            await using var server = await LocalPostgresServer.CreatePrimaryAsync(binaries, "scratch", parent, cancellationToken, ["fsync = off", "full_page_writes = off", "max_wal_size = '1GB'"]);
            var psqlProblem = await LoadAsync(binaries, server, Path.Combine(backupDirectory, dump.DumpFile), cancellationToken);
            var problems = new List<string>();
            if (psqlProblem is not null)
            {
                problems.Add(psqlProblem);
            }

            foreach (var database in dump.Databases)
            {
                SortedDictionary<string, long> restored;
                try
                {
                    restored = await PostgresRowCounts.CountAsync(server.ConnectionString(database.Name), cancellationToken);
                }
                catch (Npgsql.NpgsqlException e)
                {
                    problems.Add($"database {database.Name}: not restored ({e.Message})");
                    continue;
                }

                foreach (var (table, rows) in database.Tables)
                {
                    if (!restored.TryGetValue(table, out var got))
                    {
                        problems.Add($"{database.Name}.{table}: table missing after restore");
                    }
                    else if (got != rows)
                    {
                        problems.Add($"{database.Name}.{table}: {got} rows after restore, {rows} when dumped");
                    }
                }
            }

            return problems;
        }
        finally
        {
            try
            {
                Directory.Delete(parent, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Streams the decompressed dump into psql's stdin. The only expected error is the bootstrap role that initdb already made.</summary>
    private static async Task<string?> LoadAsync(PostgresBinaries binaries, LocalPostgresServer server, string dumpFile, CancellationToken cancellationToken)
    {
        var (program, arguments) = OsUser.AsServerAccount(
            binaries.Tool("psql"),
            ["-X", "-q", "-h", "127.0.0.1", "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", LocalPostgresServer.Superuser, "-d", "postgres", "-o", "/dev/null"]);
        using var psql = StreamingProcess.Start(program, arguments, new Dictionary<string, string?>(StringComparer.Ordinal), writeStdin: true);
        await using (var file = File.OpenRead(dumpFile))
        await using (var sql = DumpCompression.Decompress(file, DumpCompression.CompressionOf(dumpFile)))
        {
            await FileHashing.CopyAsync(sql, psql.Input, cancellationToken);
            await psql.Input.FlushAsync(cancellationToken);
            psql.Input.Close();
        }

        var exit = await psql.WaitAsync(cancellationToken);
        var errors = psql.Stderr.Split('\n')
            .Where(l => l.Contains("ERROR:", StringComparison.Ordinal) && !l.Contains($"role \"{LocalPostgresServer.Superuser}\" already exists", StringComparison.Ordinal))
            .ToList();
        return exit != 0 ? $"psql exited with status {exit}" : errors.Count > 0 ? $"psql: {errors.Count} errors while loading, first: {errors[0].Trim()}" : null;
    }
}
