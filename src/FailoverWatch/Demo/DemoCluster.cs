using System.Globalization;
using FailoverWatch.LocalServers;

namespace FailoverWatch.Demo;

/// <summary>
/// A throwaway primary + streaming standby on free loopback ports under a temp folder, and a configuration
/// file for them. Everything goes away on dispose.
/// </summary>
internal sealed class DemoCluster : IAsyncDisposable
{
    private DemoCluster(string directory, LocalPostgresServer primary, LocalPostgresServer standby, int httpPort)
    {
        Directory = directory;
        Primary = primary;
        Standby = standby;
        HttpPort = httpPort;
    }

    public string Directory { get; }

    public LocalPostgresServer Primary { get; }

    public LocalPostgresServer Standby { get; }

    public int HttpPort { get; }

    public string ConfigPath => Path.Combine(Directory, "failoverwatch.yaml");

    public static async Task<DemoCluster> StartAsync(CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), "failoverwatch-demo-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(directory);
        OsUser.GiveToServerAccount(directory);
        LocalPostgresServer? primary = null;
        try
        {
            var binaries = PostgresBinaries.Find();
            primary = await LocalPostgresServer.CreatePrimaryAsync(binaries, "pg1", directory, cancellationToken);
            var standby = await LocalPostgresServer.CreateStandbyAsync(
                primary, "pg2", directory, cancellationToken, extraSettings: ["wal_receiver_timeout = '5s'", "wal_retrieve_retry_interval = '500ms'"]);
            var demo = new DemoCluster(directory, primary, standby, OsUser.FreeLoopbackPort());
            await demo.WriteFilesAsync(binaries, cancellationToken);
            return demo;
        }
        catch
        {
            if (primary is not null)
            {
                await primary.DisposeAsync();
            }

            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Standby.DisposeAsync();
        await Primary.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private async Task WriteFilesAsync(PostgresBinaries binaries, CancellationToken cancellationToken)
    {
        var application = Path.Combine(Directory, "app");
        System.IO.Directory.CreateDirectory(Path.Combine(application, "public", "system", "media_attachments"));
        await File.WriteAllTextAsync(Path.Combine(application, ".env.production"), "SECRET_KEY_BASE=demo-only-not-a-secret\n", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(application, "public", "system", "media_attachments", "avatar.png"), "not really a png\n", cancellationToken);
        var token = Path.Combine(Directory, "admin-token");
        await File.WriteAllTextAsync(token, Guid.NewGuid().ToString("N") + "\n", cancellationToken);
        File.SetUnixFileMode(token, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(ConfigPath, ConfigText(binaries, application), cancellationToken);
    }

    private string ConfigText(PostgresBinaries binaries, string application) => string.Create(CultureInfo.InvariantCulture, $$"""
        # Written by `failoverwatch demo`; the servers and this folder are removed when the demo stops.
        cluster:
          name: demo
          nodes:
            - name: pg1
              host: 127.0.0.1
              port: {{Primary.Port}}
              user: postgres
              stop_command: "{{FenceCommand(binaries, Primary, "fast")}}"
              fence_command: "{{FenceCommand(binaries, Primary, "immediate")}}"
            - name: pg2
              host: 127.0.0.1
              port: {{Standby.Port}}
              user: postgres
              stop_command: "{{FenceCommand(binaries, Standby, "fast")}}"
              fence_command: "{{FenceCommand(binaries, Standby, "immediate")}}"
        monitor:
          probe_interval: 1s
          probe_timeout: 2s
          failure_threshold: 3
          max_lag_on_failover: 16MB
          state_file: {{Path.Combine(Directory, "state.json")}}
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

    private static string FenceCommand(PostgresBinaries binaries, LocalPostgresServer server, string mode)
    {
        var (fileName, arguments) = OsUser.AsServerAccount(binaries.Tool("pg_ctl"), ["-D", server.DataDirectory, "-m", mode, "-W", "stop"]);
        return string.Join(' ', [fileName, .. arguments]);
    }
}
