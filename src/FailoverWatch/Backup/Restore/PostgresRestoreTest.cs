using System.Security.Cryptography;
using FailoverWatch.LocalServers;
using Npgsql;
using FailoverWatch.Backup.Store;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Backup.Restore;

/// <summary>
/// Restores a dump into a scratch PostgreSQL (the machine's binaries, a temporary folder) through psql, then compares
/// every database and table row count with what the manifest recorded at dump time. The scratch server holds every
/// restored row for as long as the test runs, so it listens on no TCP port: only a Unix socket in a 0700 folder of
/// the server account, and its superuser needs a random scram password, known to this process alone.
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
            File.SetUnixFileMode(parent, OwnerOnlyFolder);
            // The last listen_addresses wins: no TCP at all. The socket is the server account's alone from its creation,
            // inside a folder only that account (and root) can enter.
            await using var server = await LocalPostgresServer.CreatePrimaryAsync(
                binaries, "scratch", parent, cancellationToken,
                ["fsync = off", "full_page_writes = off", "max_wal_size = '1GB'", "listen_addresses = ''", "unix_socket_permissions = 0700"]);
            File.SetUnixFileMode(server.SocketDirectory, OwnerOnlyFolder);
            var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
            await RequirePasswordAsync(server, password, cancellationToken);
            var psqlProblem = await LoadAsync(binaries, server, password, Path.Combine(backupDirectory, dump.DumpFile), cancellationToken);
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
                    restored = await PostgresRowCounts.CountAsync(SocketConnection(server, database.Name, password), cancellationToken);
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

    /// <summary>
    /// The scratch server's one login: a role no dump holds, so the dump's own <c>ALTER ROLE postgres ... PASSWORD</c>
    /// changes nothing for the restore, and <c>postgres</c> cannot log in at all.
    /// </summary>
    private const string RestoreRole = "failoverwatch_restore_test";

    private static readonly UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// initdb's trust (reachable only through the 0700 socket folder until now) becomes scram with a random password:
    /// the server account's other processes cannot walk in either.
    /// </summary>
    private static async Task RequirePasswordAsync(LocalPostgresServer server, string password, CancellationToken cancellationToken)
    {
        await using (var connection = new NpgsqlConnection(SocketConnection(server, "postgres", null)))
        {
            await connection.OpenAsync(cancellationToken);
            // Hex only, so the literal needs no quoting; ALTER ROLE takes no parameters.
            await using var create = new NpgsqlCommand($"SET password_encryption = 'scram-sha-256'; CREATE ROLE {RestoreRole} SUPERUSER LOGIN PASSWORD '{password}'", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(server.DataDirectory, "pg_hba.conf"), $"local all {RestoreRole} scram-sha-256\n", cancellationToken);
            await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
            await reload.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static string SocketConnection(LocalPostgresServer server, string database, string? password) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = server.SocketDirectory,
            Port = server.Port,
            Username = password is null ? LocalPostgresServer.Superuser : RestoreRole,
            Password = password,
            Database = database,
            Pooling = false,
            Timeout = 10,
        }.ConnectionString;

    /// <summary>Streams the decompressed dump into psql's stdin. The only expected error is the bootstrap role that initdb already made.</summary>
    private static async Task<string?> LoadAsync(PostgresBinaries binaries, LocalPostgresServer server, string password, string dumpFile, CancellationToken cancellationToken)
    {
        var (program, arguments) = OsUser.AsServerAccount(
            binaries.Tool("psql"),
            ["-X", "-q", "-h", server.SocketDirectory, "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", RestoreRole, "-d", "postgres", "-o", "/dev/null"]);
        // The password through psql's environment, never its command line.
        using var psql = StreamingProcess.Start(program, arguments, new Dictionary<string, string?>(StringComparer.Ordinal) { ["PGPASSWORD"] = password }, writeStdin: true);
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
