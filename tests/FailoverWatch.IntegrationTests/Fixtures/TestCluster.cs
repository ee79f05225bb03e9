using System.Globalization;
using FailoverWatch.LocalServers;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// A real pair plus a FailoverWatch configuration for it: fence commands that really stop the old primary
/// (and leave a marker), hooks that record their environment, and optionally the monitor's own
/// connection to the primary going through a relay the test can cut, or a third node streaming from the standby.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private TestCluster(PostgresPair pair, LocalPostgresServer? cascaded, TcpRelay? monitorRelay, int httpPort, string? statePath)
    {
        Pair = pair;
        StatePath = statePath ?? File("state.json");
        Cascaded = cascaded;
        MonitorRelay = monitorRelay;
        HttpPort = httpPort;
    }

    public PostgresPair Pair { get; }

    /// <summary>Present with <c>cascadedStandby</c>: pg3, streaming from the standby pg2, not from the primary.</summary>
    internal LocalPostgresServer? Cascaded { get; }

    /// <summary>Present with <c>relayMonitor</c>: the monitor reaches the primary only through it.</summary>
    public TcpRelay? MonitorRelay { get; }

    public int HttpPort { get; }

    public string ConfigPath => File("failoverwatch.yaml");

    public string StatePath { get; }

    public string AdminToken => "test-admin-token";

    public string File(string name) => Path.Combine(Pair.DirectoryPath, name);

    public static async Task<TestCluster> StartAsync(
        string monitorSettings = "",
        bool relayMonitor = false,
        bool relayReplication = false,
        string walReceiverTimeout = "5s",
        Func<TestCluster, string>? pg1FenceCommand = null,
        bool cascadedStandby = false,
        string? statePath = null,
        string monitorUser = LocalPostgresServer.Superuser,
        Func<TestCluster, string>? onFailoverHook = null,
        Func<TestCluster, string>? pg1StopCommand = null,
        Func<TestCluster, string>? pg1RejoinCommand = null,
        Func<TestCluster, string>? pg3RejoinCommand = null,
        Func<TestCluster, string>? pg2RejoinCommand = null)
    {
        var pair = await PostgresPair.StartAsync(relayReplication, walReceiverTimeout);
        LocalPostgresServer? cascaded = null;
        try
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            cascaded = cascadedStandby ? await LocalPostgresServer.CreateStandbyAsync(pair.Standby, "pg3", pair.DirectoryPath, cancel.Token) : null;

            // With a rejoin_command pg3 is a third node beside pg2 instead: a standby of the primary, through the same relay,
            // that stops calling a cut-off primary "streaming" as soon as pg2 does. With both, pg3 is a cascade the host is to re-point.
            cascaded = pg3RejoinCommand is null || cascadedStandby ? cascaded : await LocalPostgresServer.CreateStandbyAsync(
                pair.Primary, "pg3", pair.DirectoryPath, cancel.Token, pair.ReplicationRelay?.Port, [$"wal_receiver_timeout = '{walReceiverTimeout}'", "wal_retrieve_retry_interval = '500ms'"]);
        }
        catch
        {
            await pair.DisposeAsync();
            throw;
        }

        var relay = relayMonitor ? TcpRelay.Start(pair.Primary.Port) : null;
        var cluster = new TestCluster(pair, cascaded, relay, OsUser.FreeLoopbackPort(), statePath);
        await System.IO.File.WriteAllTextAsync(cluster.File("admin-token"), cluster.AdminToken);
        await System.IO.File.WriteAllTextAsync(cluster.ConfigPath, cluster.Config(monitorSettings, pg1FenceCommand, monitorUser, onFailoverHook, pg1StopCommand, pg1RejoinCommand, pg3RejoinCommand, pg2RejoinCommand));
        return cluster;
    }

    /// <summary>The pg_ctl command line that stops a server at once, as the server account.</summary>
    internal static string StopCommand(LocalPostgresServer server, string mode = "immediate") => server.StopCommandLine(mode);

    /// <summary>Whether a hook or fence command ran; each appends its FW_* environment to a marker file.</summary>
    public string? Marker(string name) => System.IO.File.Exists(File(name)) ? System.IO.File.ReadAllText(File(name)) : null;

    /// <summary>The line a hook or fence command appends to a marker file: its event, old and new primary.</summary>
    public string RecordTo(string marker) => $"echo \\\"$FW_EVENT old=$FW_OLD_PRIMARY new=$FW_NEW_PRIMARY\\\" >> {File(marker)}";

    /// <remarks>Commands given are written inside YAML double quotes: a <c>"</c> in them must be <c>\"</c>.</remarks>
    private string Config(string monitorSettings, Func<TestCluster, string>? pg1FenceCommand, string monitorUser, Func<TestCluster, string>? onFailoverHook, Func<TestCluster, string>? pg1StopCommand, Func<TestCluster, string>? pg1RejoinCommand, Func<TestCluster, string>? pg3RejoinCommand, Func<TestCluster, string>? pg2RejoinCommand)
    {
        var pg1Fence = pg1FenceCommand?.Invoke(this) ?? $"{RecordTo("fenced-pg1")}; {StopCommand(Pair.Primary)}";
        var pg2Fence = $"{RecordTo("fenced-pg2")}; {StopCommand(Pair.Standby)}";
        return string.Create(CultureInfo.InvariantCulture, $"""
            cluster:
              name: test
              nodes:
                - name: pg1
                  host: 127.0.0.1
                  port: {MonitorRelay?.Port ?? Pair.Primary.Port}
                  user: {monitorUser}
                  stop_command: "{pg1StopCommand?.Invoke(this) ?? StopCommand(Pair.Primary, "fast")}"
                  fence_command: "{pg1Fence}"
                  rejoin_command: "{pg1RejoinCommand?.Invoke(this) ?? ""}"
                - name: pg2
                  host: 127.0.0.1
                  port: {Pair.Standby.Port}
                  user: {monitorUser}
                  stop_command: "{StopCommand(Pair.Standby, "fast")}"
                  fence_command: "{pg2Fence}"
                  rejoin_command: "{pg2RejoinCommand?.Invoke(this) ?? ""}"
            {CascadedNode(pg3RejoinCommand)}
            monitor:
              state_file: {StatePath}
            {Indent(monitorSettings)}
            hooks:
              on_failover: "{onFailoverHook?.Invoke(this) ?? RecordTo("hook-failover")}"
              on_split_brain: "{RecordTo("hook-split-brain")}"
              timeout: 10s
            http:
              listen: 127.0.0.1:{HttpPort}
              admin_token_file: {File("admin-token")}

            """);
    }

    private string CascadedNode(Func<TestCluster, string>? rejoinCommand) => Cascaded is null
        ? ""
        : string.Create(CultureInfo.InvariantCulture, $"    - {{ name: pg3, host: 127.0.0.1, port: {Cascaded.Port}, user: postgres, rejoin_command: \"{rejoinCommand?.Invoke(this) ?? ""}\" }}");

    private static string Indent(string settings) =>
        string.Join("\n", settings.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => "  " + l.Trim()));

    public async ValueTask DisposeAsync()
    {
        MonitorRelay?.Dispose();
        try
        {
            if (Cascaded is not null)
            {
                await Cascaded.DisposeAsync();
            }
        }
        finally
        {
            await Pair.DisposeAsync();
        }
    }
}
