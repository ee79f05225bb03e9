using System.Globalization;
using FailoverWatch.LocalServers;

namespace FailoverWatch.Demo;

/// <summary>
/// A throwaway primary + streaming standby on free loopback ports under a temp folder, and a configuration
/// file for them. Everything goes away on dispose.
/// </summary>
internal sealed class DemoCluster : IAsyncDisposable
{
    private readonly LocalReplicationPair _pair;

    private DemoCluster(LocalReplicationPair pair, int httpPort)
    {
        _pair = pair;
        HttpPort = httpPort;
    }

    public string Directory => _pair.Directory;

    public LocalPostgresServer Primary => _pair.Primary;

    public LocalPostgresServer Standby => _pair.Standby;

    public int HttpPort { get; }

    public string ConfigPath => Path.Combine(Directory, "failoverwatch.yaml");

    public static async Task<DemoCluster> StartAsync(CancellationToken cancellationToken)
    {
        var pair = await LocalReplicationPair.StartAsync(
            "failoverwatch-demo-", ["wal_receiver_timeout = '5s'", "wal_retrieve_retry_interval = '500ms'"], cancellationToken);
        var demo = new DemoCluster(pair, OsUser.FreeLoopbackPort());
        try
        {
            await demo.WriteFilesAsync(PostgresBinaries.Find(), cancellationToken);
            return demo;
        }
        catch
        {
            await pair.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => _pair.DisposeAsync();

    private async Task WriteFilesAsync(PostgresBinaries binaries, CancellationToken cancellationToken)
    {
        var application = Path.Combine(Directory, "app");
        System.IO.Directory.CreateDirectory(Path.Combine(application, "public", "system", "media_attachments"));
        await File.WriteAllTextAsync(Path.Combine(application, ".env.production"), "SECRET_KEY_BASE=demo-only-not-a-secret\n", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(application, "public", "system", "media_attachments", "avatar.png"), "not really a png\n", cancellationToken);
        var token = Path.Combine(Directory, "admin-token");
        await File.WriteAllTextAsync(token, Guid.NewGuid().ToString("N") + "\n", cancellationToken);
        File.SetUnixFileMode(token, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        foreach (var server in new[] { Primary, Standby })
        {
            await File.WriteAllTextAsync(RejoinScript(server), RejoinScriptText(server), cancellationToken);
        }

        await File.WriteAllTextAsync(ConfigPath, ConfigText(binaries, application), cancellationToken);
    }

    private string RejoinScript(LocalPostgresServer server) => Path.Combine(Directory, $"rejoin-{server.Name}.sh");

    /// <summary>
    /// What an ssh forced command runs on a real node's host: this program's <c>rejoin</c>, the new primary's address from
    /// the host's environment. In a script, so the YAML holds no nested quoting.
    /// </summary>
    private static string RejoinScriptText(LocalPostgresServer server)
    {
        // Run as `dotnet failoverwatch.dll` the process is dotnet; the native binary is itself.
        var self = Environment.ProcessPath!;
        string[] program = Path.GetFileNameWithoutExtension(self) == "dotnet" ? [self, Path.Combine(AppContext.BaseDirectory, "failoverwatch.dll")] : [self];
        string[] arguments = [.. program, "rejoin", "--pgdata", server.DataDirectory, "--node", server.Name, "--start-command", server.StartCommandLine(), "--stream-timeout", "60s"];
        return "exec " + string.Join(' ', arguments.Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"))
            + " --source \"host=$FW_NEW_PRIMARY_HOST port=$FW_NEW_PRIMARY_PORT user=postgres dbname=postgres\"\n";
    }

    private string ConfigText(PostgresBinaries binaries, string application) =>
        "# Written by `failoverwatch demo`; the servers and this folder are removed when the demo stops.\n"
        + MonitorConfigYaml.Watching("demo", [Node(binaries, Primary), Node(binaries, Standby)], Path.Combine(Directory, "state.json"))
        + string.Create(CultureInfo.InvariantCulture, $$"""
          max_lag_on_failover: 16MB
          rejoin_retry: 5s
        hooks:
          on_failover: "echo failover: $FW_OLD_PRIMARY to $FW_NEW_PRIMARY"
          on_split_brain: "echo split brain in $FW_CLUSTER"
          timeout: 10s
        backup:
          destination: {{Path.Combine(Directory, "backups")}}
          schedule: "*/10 * * * *"
          postgres: { enabled: true, from: standby }
          secrets: { paths: [{{Path.Combine(application, ".env.production")}}] }
          media: { path: {{Path.Combine(application, "public", "system")}} }
        http:
          listen: 127.0.0.1:{{HttpPort}}
          admin_token_file: {{Path.Combine(Directory, "admin-token")}}

        """);

    private string Node(PostgresBinaries binaries, LocalPostgresServer server) =>
        MonitorConfigYaml.Node(server.Name, server.Port, StopCommand(binaries, server), FenceCommand(binaries, server), $"sh {RejoinScript(server)}");

    private static string StopCommand(PostgresBinaries binaries, LocalPostgresServer server) =>
        PgCtl(binaries, server, "-m", "fast", "-W", "stop");

    /// <summary>Stopped at once; a server that is already down (killed, crashed) counts as fenced: pg_ctl status exits 3 then.</summary>
    private static string FenceCommand(PostgresBinaries binaries, LocalPostgresServer server) =>
        $"{PgCtl(binaries, server, "-m", "immediate", "-W", "stop")} || ! {PgCtl(binaries, server, "status")}";

    private static string PgCtl(PostgresBinaries binaries, LocalPostgresServer server, params string[] arguments)
    {
        var (fileName, asServerAccount) = OsUser.AsServerAccount(binaries.Tool("pg_ctl"), ["-D", server.DataDirectory, .. arguments]);
        return string.Join(' ', [fileName, .. asServerAccount]);
    }
}
