using System.Security.Cryptography;
using FailoverWatch.LocalServers;
using Npgsql;
using FailoverWatch.Backup.Store;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Backup.Restore;

/// <summary>
/// Restores a dump into a scratch PostgreSQL (the machine's binaries, a temporary folder) through psql, then compares
/// every database and table row count with what the manifest recorded at dump time. The scratch server holds every
/// restored row for as long as the test runs, and restoring runs code the database's owners wrote, so it listens on no
/// TCP port, only on a Unix socket in a 0700 folder; its one login needs a random scram password from initdb on; and it
/// and psql run as an account of their own (<see cref="RestoreTestAccount"/>).
/// </summary>
internal static class PostgresRestoreTest
{
    public static async Task<IReadOnlyList<string>> RunAsync(string backupDirectory, PostgresDumpInfo dump, string? osUser, CancellationToken cancellationToken)
    {
        var account = RestoreTestAccount.Resolve(osUser);
        if (OsUser.IsRoot && !OsUser.Exists(account))
        {
            return [$"restore test: the OS user {account} (backup.restore_test_user) does not exist"];
        }

        var binaries = PostgresBinaries.Find();
        var parent = Path.Combine(Path.GetTempPath(), "fw-restore-test-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(parent);
        try
        {
            OsUser.GiveToAccount(account, parent);
            File.SetUnixFileMode(parent, OwnerOnlyFolder);
            var login = new IsolatedLogin(RestoreRole, Convert.ToHexString(RandomNumberGenerator.GetBytes(24)), account);
            // The last listen_addresses wins: no TCP at all. The socket is the account's alone from its creation,
            // inside a folder only that account (and root) can enter.
            await using var server = await LocalPostgresServer.CreatePrimaryAsync(
                binaries, "scratch", parent, cancellationToken,
                ["fsync = off", "full_page_writes = off", "max_wal_size = '1GB'", "listen_addresses = ''", "unix_socket_permissions = 0700"],
                login);
            File.SetUnixFileMode(server.SocketDirectory, OwnerOnlyFolder);
            var psqlProblem = await LoadAsync(binaries, server, login, Path.Combine(backupDirectory, dump.DumpFile), cancellationToken);
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
                    restored = await PostgresRowCounts.CountAsync(SocketConnection(server, database.Name, login.Password), cancellationToken);
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
    /// The scratch server's one login and bootstrap superuser: a role no dump holds, so the dump's own roles (with
    /// their passwords) change nothing for the restore and cannot log in at all.
    /// </summary>
    private const string RestoreRole = "failoverwatch_restore_test";

    private static readonly UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private static string SocketConnection(LocalPostgresServer server, string database, string password) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = server.SocketDirectory,
            Port = server.Port,
            Username = RestoreRole,
            Password = password,
            Database = database,
            Pooling = false,
            Timeout = 10,
        }.ConnectionString;

    /// <summary>Streams the decompressed dump into psql's stdin, psql run as the scratch server's account: a dump's psql meta-commands run as psql's user.</summary>
    private static async Task<string?> LoadAsync(PostgresBinaries binaries, LocalPostgresServer server, IsolatedLogin login, string dumpFile, CancellationToken cancellationToken)
    {
        var (program, arguments) = OsUser.AsAccount(
            login.OsAccount,
            binaries.Tool("psql"),
            ["-X", "-q", "-h", server.SocketDirectory, "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", RestoreRole, "-d", "postgres", "-o", "/dev/null"]);
        // The password through psql's environment, never its command line.
        using var psql = StreamingProcess.Start(program, arguments, new Dictionary<string, string?>(StringComparer.Ordinal) { ["PGPASSWORD"] = login.Password }, writeStdin: true);
        await using (var file = File.OpenRead(dumpFile))
        await using (var sql = DumpCompression.Decompress(file, DumpCompression.CompressionOf(dumpFile)))
        {
            await FileHashing.CopyAsync(sql, psql.Input, cancellationToken);
            await psql.Input.FlushAsync(cancellationToken);
            psql.Input.Close();
        }

        var exit = await psql.WaitAsync(cancellationToken);
        var errors = psql.Stderr.Split('\n').Where(l => l.Contains("ERROR:", StringComparison.Ordinal)).ToList();
        return exit != 0 ? $"psql exited with status {exit}" : errors.Count > 0 ? $"psql: {errors.Count} errors while loading, first: {errors[0].Trim()}" : null;
    }
}
