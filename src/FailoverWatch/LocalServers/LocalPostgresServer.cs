using System.Globalization;
using FailoverWatch.Monitoring;
using FailoverWatch.Processes;
using Npgsql;

namespace FailoverWatch.LocalServers;

/// <summary>
/// A throwaway PostgreSQL server on loopback, in a folder of its own, started from the machine's binaries.
/// Used by the demo, the scratch server of a restore test, and the test fixtures.
/// </summary>
internal sealed class LocalPostgresServer : IAsyncDisposable
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(120);
    private readonly PostgresBinaries _binaries;
    private readonly string _account;

    private LocalPostgresServer(PostgresBinaries binaries, string name, string directory, int port, string account = OsUser.ServerAccount)
    {
        _binaries = binaries;
        _account = account;
        Name = name;
        Directory = directory;
        Port = port;
    }

    public string Name { get; }

    /// <summary>The server's own folder: <c>data/</c>, <c>sock/</c> and <c>server.log</c> live in it.</summary>
    public string Directory { get; }

    public string DataDirectory => Path.Combine(Directory, "data");

    public string SocketDirectory => Path.Combine(Directory, "sock");

    public string LogFile => Path.Combine(Directory, "server.log");

    public int Port { get; }

    public const string Superuser = "postgres";

    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = Superuser,
            Database = database,
            Pooling = false,
            Timeout = 10,
        }.ConnectionString;

    /// <summary>
    /// initdb (with data checksums) and start a primary ready to feed streaming standbys; with <paramref name="isolated"/>,
    /// a server no one can log in to without its password, from initdb on, run as its own OS account.
    /// </summary>
    public static async Task<LocalPostgresServer> CreatePrimaryAsync(
        PostgresBinaries binaries, string name, string parentDirectory, CancellationToken cancellationToken, IEnumerable<string>? extraSettings = null,
        IsolatedLogin? isolated = null)
    {
        var account = isolated?.OsAccount ?? OsUser.ServerAccount;
        var server = new LocalPostgresServer(binaries, name, PrepareDirectory(parentDirectory, name, account), OsUser.FreeLoopbackPort(), account);
        if (isolated is null)
        {
            await server.RunToolAsync("initdb", ["-D", server.DataDirectory, "-U", Superuser, "--auth=trust", "--data-checksums", "-E", "UTF8", "--locale=C"], cancellationToken);
        }
        else
        {
            await server.InitIsolatedAsync(isolated, cancellationToken);
        }

        var settings = new List<string>
        {
            "listen_addresses = '127.0.0.1'",
            $"unix_socket_directories = '{server.SocketDirectory}'",
            "wal_level = replica",
            "max_wal_senders = 10",
            "max_replication_slots = 10",
            "hot_standby = on",
            "wal_keep_size = '256MB'",
            "shared_buffers = '32MB'",
            "max_connections = 40",
            "wal_receiver_status_interval = '1s'",
            "logging_collector = off",
        };
        settings.AddRange(extraSettings ?? []);
        await server.AppendConfigAsync(settings, cancellationToken);
        if (isolated is null)
        {
            await File.AppendAllTextAsync(
                Path.Combine(server.DataDirectory, "pg_hba.conf"),
                "host replication all 127.0.0.1/32 trust\n",
                cancellationToken);
        }

        await server.StartAsync(cancellationToken);
        return server;
    }

    /// <summary>
    /// initdb with scram for every connection from the start (no trusting window between start and a switch), the
    /// password through a 0600 file of the server's account that is gone before the server starts, then one hba line:
    /// the role alone, through the socket, so the roles a restored dump creates cannot log in.
    /// </summary>
    private async Task InitIsolatedAsync(IsolatedLogin isolated, CancellationToken cancellationToken)
    {
        var passwordFile = Path.Combine(Directory, "pwfile");
        try
        {
            // 0600 from its creation, so the password is never readable by anyone else, not even for a moment.
            await using (var file = new FileStream(passwordFile, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
            await using (var writer = new StreamWriter(file))
            {
                await writer.WriteAsync(isolated.Password.AsMemory(), cancellationToken);
            }

            OsUser.GiveToAccount(_account, passwordFile);
            await RunToolAsync(
                "initdb",
                ["-D", DataDirectory, "-U", isolated.Role, "--auth-local=scram-sha-256", "--auth-host=reject", $"--pwfile={passwordFile}", "--data-checksums", "-E", "UTF8", "--locale=C"],
                cancellationToken);
        }
        finally
        {
            File.Delete(passwordFile);
        }

        await File.WriteAllTextAsync(Path.Combine(DataDirectory, "pg_hba.conf"), $"local all {isolated.Role} scram-sha-256\n", cancellationToken);
    }

    /// <summary>A hot standby streaming from <paramref name="primary"/> (or from <paramref name="upstreamPort"/>, a relay in front of it).</summary>
    public static async Task<LocalPostgresServer> CreateStandbyAsync(
        LocalPostgresServer primary, string name, string parentDirectory, CancellationToken cancellationToken,
        int? upstreamPort = null, IEnumerable<string>? extraSettings = null)
    {
        var server = new LocalPostgresServer(primary._binaries, name, PrepareDirectory(parentDirectory, name, OsUser.ServerAccount), OsUser.FreeLoopbackPort());
        await server.RunToolAsync(
            "pg_basebackup",
            ["-D", server.DataDirectory, "-d", $"host=127.0.0.1 port={primary.Port} user={Superuser} application_name={name}", "-R", "-X", "stream", "-c", "fast"],
            cancellationToken);
        var settings = new List<string>
        {
            $"unix_socket_directories = '{server.SocketDirectory}'",
            $"primary_conninfo = 'host=127.0.0.1 port={upstreamPort ?? primary.Port} user={Superuser} application_name={name}'",
        };
        settings.AddRange(extraSettings ?? []);
        await server.AppendConfigAsync(settings, cancellationToken);
        await server.StartAsync(cancellationToken);
        return server;
    }

    public Task StartAsync(CancellationToken cancellationToken) =>
        RunToolAsync("pg_ctl", ["-D", DataDirectory, "-l", LogFile, "-o", $"-p {Port}", "-w", "-t", "60", "start"], cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken, string mode = "fast") =>
        RunToolAsync("pg_ctl", ["-D", DataDirectory, "-m", mode, "-w", "-t", "60", "stop"], cancellationToken);

    /// <summary>The shell command line that stops this server without waiting (<c>pg_ctl -W stop</c>) as the server account: a fence or stop command for configurations.</summary>
    public string StopCommandLine(string mode = "immediate")
    {
        var (program, arguments) = OsUser.AsServerAccount(_binaries.Tool("pg_ctl"), ["-D", DataDirectory, "-m", mode, "-W", "stop"]);
        return string.Join(' ', [program, .. arguments]);
    }

    /// <summary>The shell command line that starts this server on its port as the server account: a start command for <c>rejoin</c>.</summary>
    public string StartCommandLine()
    {
        var (program, arguments) = OsUser.AsServerAccount(_binaries.Tool("pg_ctl"), ["-D", DataDirectory, "-l", LogFile, "-o", $"'-p {Port}'", "-w", "-t", "60", "start"]);
        return string.Join(' ', [program, .. arguments]);
    }

    /// <summary>The postmaster's process id, or null when no server runs from this folder.</summary>
    public int? PostmasterPid
    {
        get
        {
            try
            {
                var first = File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).FirstOrDefault();
                return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && IsAlive(pid) ? pid : null;
            }
            catch (IOException)
            {
                return null;
            }
        }
    }

    /// <summary>Sends a signal (<c>KILL</c>, <c>STOP</c>, <c>CONT</c>) to the postmaster alone.</summary>
    public async Task SignalAsync(string signal, CancellationToken cancellationToken)
    {
        if (PostmasterPid is { } pid)
        {
            await ExternalProcess.RunAsync("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)], ToolTimeout, cancellationToken);
        }
    }

    /// <summary>
    /// Sends a signal to the postmaster and every server process under it. Stopping the postmaster alone only
    /// blocks new connections: its walsenders go on streaming, which is not a hung server.
    /// </summary>
    public async Task SignalServerAsync(string signal, CancellationToken cancellationToken)
    {
        if (PostmasterPid is { } pid)
        {
            var id = pid.ToString(CultureInfo.InvariantCulture);
            await ExternalProcess.RunAsync("pkill", [$"-{signal}", "-P", id], ToolTimeout, cancellationToken);
            await ExternalProcess.RunAsync("kill", [$"-{signal}", id], ToolTimeout, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (PostmasterPid is { } pid)
            {
                await SignalServerAsync("CONT", CancellationToken.None);
                var stop = await RunToolUncheckedAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "20", "stop"], CancellationToken.None);
                if (!stop.Succeeded && IsAlive(pid))
                {
                    await SignalAsync("KILL", CancellationToken.None);
                }
            }
        }
        finally
        {
            TryDelete(Directory);
        }
    }

    public async Task<T> QueryScalarAsync<T>(string sql, CancellationToken cancellationToken)
    {
        await using var dataSource = NodeConnectionStrings.WithoutTypeLoading(ConnectionString());
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var dataSource = NodeConnectionStrings.WithoutTypeLoading(ConnectionString());
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Runs one of the server's tools as the server account; its output when it succeeded, else an exception with the server log.</summary>
    internal async Task<ProcessResult> RunToolAsync(string tool, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var result = await RunToolUncheckedAsync(tool, arguments, cancellationToken);
        if (!result.Succeeded)
        {
            var log = File.Exists(LogFile) ? await File.ReadAllTextAsync(LogFile, cancellationToken) : "";
            throw new InvalidOperationException($"{tool} for {Name} failed ({result.Describe()}): {result.StandardError}{result.StandardOutput}\n{log}");
        }

        return result;
    }

    private Task<ProcessResult> RunToolUncheckedAsync(string tool, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var (fileName, args) = OsUser.AsAccount(_account, _binaries.Tool(tool), arguments);
        return ExternalProcess.RunAsync(fileName, args, ToolTimeout, cancellationToken, workingDirectory: Directory);
    }

    private Task AppendConfigAsync(IEnumerable<string> settings, CancellationToken cancellationToken) =>
        File.AppendAllTextAsync(Path.Combine(DataDirectory, "postgresql.auto.conf"), string.Join('\n', settings) + "\n", cancellationToken);

    private static string PrepareDirectory(string parentDirectory, string name, string account)
    {
        var directory = Path.Combine(parentDirectory, name);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "sock"));
        OsUser.GiveToAccount(account, directory);
        return directory;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temp folder is not worth failing a teardown for.
        }
    }
}
