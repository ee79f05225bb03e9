using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using FailoverWatch.Backup.Streams;
using FailoverWatch.LocalServers;
using Npgsql;

namespace FailoverWatch.Backup.Restore;

/// <summary>
/// The part of the restore test that touches restored data: a scratch PostgreSQL that listens on no TCP port, only on a
/// Unix socket in a 0700 folder, whose one login needs a random scram password from initdb on; the plain SQL loaded
/// through psql; every table of every database counted. It and psql run as <see cref="Result.Account"/>, an account of
/// their own: in this process when it is root (runuser), or in <c>failoverwatch restore-test-worker</c> started as that
/// account by a socket unit (<see cref="RestoreTestSocket"/>).
/// </summary>
internal static class ScratchRestore
{
    /// <summary>What the restore gave: psql's failure if any, the row counts of each restored database, and the account it ran as.</summary>
    public sealed record Result(string? LoadProblem, SortedDictionary<string, SortedDictionary<string, long>> Databases, string Account);

    /// <summary>
    /// The scratch server's one login and bootstrap superuser: a role no dump holds, so the dump's own roles (with
    /// their passwords) change nothing for the restore and cannot log in at all.
    /// </summary>
    private const string RestoreRole = "failoverwatch_restore_test";

    private static readonly UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Restores <paramref name="sql"/> as <paramref name="account"/> (only root can be another account; else it is ourselves).</summary>
    public static async Task<Result> RunAsync(Stream sql, string account, CancellationToken cancellationToken)
    {
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
            var loadProblem = await LoadAsync(binaries, server, login, sql, cancellationToken);
            var databases = new SortedDictionary<string, SortedDictionary<string, long>>(StringComparer.Ordinal);
            foreach (var database in await DatabasesAsync(server, login, cancellationToken))
            {
                databases[database] = await PostgresRowCounts.CountAsync(SocketConnection(server, database, login.Password), cancellationToken);
            }

            return new Result(loadProblem, databases, account);
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

    /// <summary>The result as the worker writes it on its standard output: one JSON object.</summary>
    public static void Write(Result result, Stream output)
    {
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WriteString("account", result.Account);
        json.WriteString("load_problem", result.LoadProblem);
        json.WriteStartObject("databases");
        foreach (var (database, tables) in result.Databases)
        {
            json.WriteStartObject(database);
            foreach (var (table, rows) in tables)
            {
                json.WriteNumber(table, rows);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    public static Result Read(string text)
    {
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        var databases = new SortedDictionary<string, SortedDictionary<string, long>>(StringComparer.Ordinal);
        foreach (var database in root.GetProperty("databases").EnumerateObject())
        {
            databases[database.Name] = new SortedDictionary<string, long>(database.Value.EnumerateObject().ToDictionary(t => t.Name, t => t.Value.GetInt64()), StringComparer.Ordinal);
        }

        return new Result(root.GetProperty("load_problem").GetString(), databases, root.GetProperty("account").GetString()!);
    }

    private static async Task<List<string>> DatabasesAsync(LocalPostgresServer server, IsolatedLogin login, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(SocketConnection(server, "postgres", login.Password));
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var names = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

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

    /// <summary>Streams the SQL into psql's stdin, psql run as the scratch server's account: a dump's psql meta-commands run as psql's user.</summary>
    private static async Task<string?> LoadAsync(PostgresBinaries binaries, LocalPostgresServer server, IsolatedLogin login, Stream sql, CancellationToken cancellationToken)
    {
        var (program, arguments) = OsUser.AsAccount(
            login.OsAccount,
            binaries.Tool("psql"),
            ["-X", "-q", "-h", server.SocketDirectory, "-p", server.Port.ToString(CultureInfo.InvariantCulture), "-U", RestoreRole, "-d", "postgres", "-o", "/dev/null"]);
        // The password through psql's environment, never its command line.
        using var psql = StreamingProcess.Start(program, arguments, new Dictionary<string, string?>(StringComparer.Ordinal) { ["PGPASSWORD"] = login.Password }, writeStdin: true);
        await FileHashing.CopyAsync(sql, psql.Input, cancellationToken);
        await psql.Input.FlushAsync(cancellationToken);
        psql.Input.Close();
        var exit = await psql.WaitAsync(cancellationToken);
        var errors = psql.Stderr.Split('\n').Where(l => l.Contains("ERROR:", StringComparison.Ordinal)).ToList();
        return exit != 0 ? $"psql exited with status {exit}" : errors.Count > 0 ? $"psql: {errors.Count} errors while loading, first: {errors[0].Trim()}" : null;
    }
}
