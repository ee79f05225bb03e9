using System.Diagnostics;
using FailoverWatch.LocalServers;
using StackExchange.Redis;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// A real redis-server on a free loopback port with its own folder, as a child process (<c>--daemonize no</c>) so it can
/// never outlive the test run unnoticed; killed and its folder removed on dispose.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly bool _ownsDirectory;

    private readonly string? _password;

    private RedisServer(Process process, string directory, int port, bool ownsDirectory, string? password)
    {
        _process = process;
        Directory = directory;
        Port = port;
        _ownsDirectory = ownsDirectory;
        _password = password;
    }

    public string Directory { get; }

    public int Port { get; }

    public string RdbPath => Path.Combine(Directory, "dump.rdb");

    /// <param name="directory">An existing folder (e.g. one holding a restored dump.rdb to load); default: a new temp folder.</param>
    /// <param name="password">The server's <c>requirepass</c>; default: none.</param>
    public static async Task<RedisServer> StartAsync(string? directory = null, string? password = null)
    {
        var ownsDirectory = directory is null;
        directory ??= Path.Combine(Path.GetTempPath(), "fw-redis-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(directory);
        var port = OsUser.FreeLoopbackPort();
        var startInfo = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory, "--dbfilename", "dump.rdb", "--daemonize", "no", "--save", "", "--appendonly", "no", "--logfile", Path.Combine(directory, "redis.log") },
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (password is not null)
        {
            startInfo.ArgumentList.Add("--requirepass");
            startInfo.ArgumentList.Add(password);
        }

        var process = Process.Start(startInfo)!;
        var server = new RedisServer(process, directory, port, ownsDirectory, password);
        try
        {
            await Wait.UntilAsync(async () =>
            {
                await using var connection = await server.ConnectAsync();
                return (await connection.GetDatabase().PingAsync()) >= TimeSpan.Zero;
            }, TimeSpan.FromSeconds(20), "redis-server answering PING");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public Task<ConnectionMultiplexer> ConnectAsync() =>
        ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { { "127.0.0.1", Port } }, AllowAdmin = true, ConnectTimeout = 2000, AbortOnConnectFail = true, Password = _password });

    /// <summary>Kills the server (no save on the way down), as a crash would.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
        if (_ownsDirectory)
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
