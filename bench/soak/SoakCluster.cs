using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;

namespace FailoverWatch.Soak;

/// <summary>
/// One round's cluster: a primary (pg1) with one or two standbys streaming straight from it, the real
/// <c>failoverwatch run</c> watching every node through a relay of its own (so the monitor alone can be cut
/// off from a node while replication goes on), and the soak's table. Dispose tears everything down.
/// </summary>
internal sealed class SoakCluster : ISoakCluster, IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly LocalReplicationPair _pair;
    private readonly LocalPostgresServer? _third;
    private readonly Dictionary<string, TcpRelay> _relays;
    private readonly List<string> _earlierMonitorOutput = [];

    private SoakCluster(LocalReplicationPair pair, LocalPostgresServer? third, Dictionary<string, TcpRelay> relays, int httpPort)
    {
        _pair = pair;
        _third = third;
        _relays = relays;
        HttpPort = httpPort;
        Nodes = third is null ? [pair.Primary, pair.Standby] : [pair.Primary, pair.Standby, third];
    }

    public IReadOnlyList<LocalPostgresServer> Nodes { get; }

    public LocalPostgresServer Primary => _pair.Primary;

    public LocalPostgresServer Standby => _pair.Standby;

    public int HttpPort { get; }

    /// <summary>The round's folder: servers, configuration, state, rejoin scripts and salvages.</summary>
    public string Folder => _pair.Directory;

    public string ConfigPath => Path.Combine(_pair.Directory, "failoverwatch.yaml");

    public MonitorProcess? Monitor { get; private set; }

    private string HookPidFile => Path.Combine(_pair.Directory, "hook-pids");

    /// <summary>Everything every monitor process of this round printed, the killed ones first.</summary>
    public string MonitorOutput => string.Join("--- monitor restarted ---\n", [.. _earlierMonitorOutput, Monitor?.Output ?? ""]);

    /// <summary>Whether the <c>on_failover</c> hook has started: the failover got as far as its last step.</summary>
    public bool HookStarted => File.Exists(HookPidFile) || File.Exists(HookLog);

    private string HookLog => Path.Combine(_pair.Directory, "hook.log");

    public TcpRelay RelayOf(LocalPostgresServer node) => _relays[node.Name];

    public static async Task<SoakCluster> StartAsync(int nodeCount, bool hangingHook, bool sync, CancellationToken cancellationToken)
    {
        string[] standbySettings = ["wal_receiver_timeout = '5s'", "wal_retrieve_retry_interval = '500ms'"];
        var pair = await LocalReplicationPair.StartAsync("fw-soak-", standbySettings, cancellationToken);
        LocalPostgresServer? third = null;
        var relays = new Dictionary<string, TcpRelay>();
        SoakCluster? cluster = null;
        try
        {
            third = nodeCount > 2 ? await LocalPostgresServer.CreateStandbyAsync(pair.Primary, "pg3", pair.Directory, cancellationToken, extraSettings: standbySettings) : null;
            cluster = new SoakCluster(pair, third, relays, OsUser.FreeLoopbackPort());
            foreach (var node in cluster.Nodes)
            {
                relays[node.Name] = TcpRelay.Start(node.Port);
            }

            await pair.Primary.ExecuteAsync("CREATE TABLE soak (id bigint PRIMARY KEY, payload text NOT NULL)", cancellationToken);
            await Wait.UntilAsync(
                async () => await pair.Primary.QueryScalarAsync<long>("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'", cancellationToken) == nodeCount - 1,
                TimeSpan.FromSeconds(60),
                "every standby streaming");
            foreach (var node in cluster.Nodes)
            {
                await HostRejoin.WriteScriptAsync(node, pair.Directory, cancellationToken);
            }

            await File.WriteAllTextAsync(cluster.ConfigPath, cluster.Config(hangingHook) + SyncRounds.Config(sync), cancellationToken);
            await cluster.StartMonitorAsync();
            await Wait.UntilAsync(async () => await cluster.StatusPrimaryAsync() == "pg1", TimeSpan.FromSeconds(60), "the monitor recording pg1 as primary");
            if (sync)
            {
                await SyncRounds.WaitForSyncStandbyAsync(cluster);
            }
            return cluster;
        }
        catch
        {
            // The monitor too: a set-up that failed after starting it (its /status never named pg1) left it running.
            await DisposeAsync(pair, third, relays, cluster?.Monitor, cluster?.HookPidFile);
            throw;
        }
    }

    /// <summary>The <c>primary</c> of the monitor's <c>/status</c>: null when it names none.</summary>
    public async Task<string?> StatusPrimaryAsync() => (await StatusAsync()).GetProperty("primary").GetString();

    public Task<JsonElement> StatusAsync() => Http.GetFromJsonAsync<JsonElement>(new Uri(Monitor!.BaseAddress, "status"));

    public async Task StartMonitorAsync() => Monitor = await MonitorProcess.StartAsync(ConfigPath, HttpPort);

    /// <summary>kill -9 of the monitor; its output is kept for the round's evidence.</summary>
    public async Task KillMonitorAsync()
    {
        if (Monitor is { } monitor)
        {
            await monitor.KillAsync();
            _earlierMonitorOutput.Add(monitor.Output);
            await monitor.DisposeAsync();
            Monitor = null;
        }
    }

    /// <summary>Copies the monitor's output and every server log into <paramref name="folder"/>, which outlives the round.</summary>
    public async Task SaveEvidenceAsync(string folder)
    {
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "monitor.log"), MonitorOutput);
        File.Copy(ConfigPath, Path.Combine(folder, "failoverwatch.yaml"), overwrite: true);
        foreach (var node in Nodes.Where(n => File.Exists(n.LogFile)))
        {
            File.Copy(node.LogFile, Path.Combine(folder, $"{node.Name}.log"), overwrite: true);
        }
    }

    public ValueTask DisposeAsync() => DisposeAsync(_pair, _third, _relays, Monitor, HookPidFile);

    private static async ValueTask DisposeAsync(LocalReplicationPair pair, LocalPostgresServer? third, Dictionary<string, TcpRelay> relays, MonitorProcess? monitor, string? hookPidFile)
    {
        try
        {
            if (monitor is not null)
            {
                await monitor.DisposeAsync();
            }

            if (hookPidFile is not null)
            {
                KillHookProcesses(hookPidFile);
            }

            foreach (var relay in relays.Values)
            {
                relay.Dispose();
            }

            if (third is not null)
            {
                await third.DisposeAsync();
            }
        }
        finally
        {
            await pair.DisposeAsync();
        }
    }

    /// <summary>The hanging hook's sleeps, should the monitor have left them behind; only those it recorded, and only while they still are sleeps.</summary>
    private static void KillHookProcesses(string pidFile)
    {
        if (!File.Exists(pidFile))
        {
            return;
        }

        foreach (var word in File.ReadAllText(pidFile).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                if (int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                    && File.ReadAllText($"/proc/{pid}/cmdline").StartsWith("sleep", StringComparison.Ordinal))
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                }
            }
            catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
            {
                // Gone already.
            }
        }
    }

    private string Config(bool hangingHook)
    {
        // The hanging hook never ends, and leaves an orphan outside its process tree holding its output pipes, as
        // `ssh -f` or a stray `&` does. Both sleeps end by themselves within two minutes.
        var hook = hangingHook
            ? $"(sleep 120 & echo $! >> {HookPidFile}); echo $$ >> {HookPidFile}; exec sleep 120"
            : $"echo $FW_EVENT $FW_OLD_PRIMARY $FW_NEW_PRIMARY >> {HookLog}";
        var nodes = Nodes.Select(n => MonitorConfigYaml.Node(
            n.Name, _relays[n.Name].Port, n.StopCommandLine("fast"), HostRejoin.FenceCommandLine(n), $"sh {HostRejoin.ScriptPath(n, _pair.Directory)}"));
        return MonitorConfigYaml.Watching("soak", nodes, Path.Combine(_pair.Directory, "state.json")) + string.Create(CultureInfo.InvariantCulture, $"""
              {HostRejoin.MonitorSettings}
            hooks:
              on_failover: "{hook}"
              timeout: 5s
            http:
              listen: 127.0.0.1:{HttpPort}

            """);
    }
}
