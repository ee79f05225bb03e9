using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;

namespace FailoverWatch.Soak;

/// <summary>
/// A three-monitor round's cluster: a real 3-member etcd, pg1 with one or two standbys, and three real
/// <c>failoverwatch run</c> monitors (fw1, fw2, fw3) at the default <c>lease_ttl</c>. Each monitor reaches every
/// node and every etcd member through relays of its own, so one monitor can be cut off from the primary, or from
/// everything. Every fence, stop and hook command runs through <c>act.sh</c>, which appends the monitor's name,
/// the time, the target and the fencing token to a log of its own: the independent evidence of who acted.
/// Dispose tears everything down.
/// </summary>
internal sealed class CoordinatedCluster : ISoakCluster, IAsyncDisposable
{
    public const int MonitorCount = 3;
    public const int LeaseTtlSeconds = 5;
    public const string ClusterName = "csoak";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly LocalReplicationPair _pair;
    private readonly LocalPostgresServer? _third;
    private readonly TcpRelay[][] _nodeRelays;
    private readonly TcpRelay[][] _etcdRelays;
    private readonly MonitorGroupConfig _config;
    private readonly MonitorProcesses _monitors;
    private readonly EtcdGateway _etcdReader;
    private readonly EtcdKeys _keys = EtcdKeys.For("/failoverwatch", ClusterName);

    private CoordinatedCluster(LocalEtcdCluster etcd, LocalReplicationPair pair, LocalPostgresServer? third)
    {
        Etcd = etcd;
        _pair = pair;
        _third = third;
        Nodes = third is null ? [pair.Primary, pair.Standby] : [pair.Primary, pair.Standby, third];
        _nodeRelays = [.. Enumerable.Range(0, MonitorCount).Select(_ => Nodes.Select(n => TcpRelay.Start(n.Port)).ToArray())];
        _etcdRelays = [.. Enumerable.Range(0, MonitorCount).Select(_ => etcd.ClientUrls.Select(u => TcpRelay.Start(new Uri(u).Port)).ToArray())];
        _config = new MonitorGroupConfig(pair.Directory, etcd, MonitorCount, LeaseTtlSeconds, Watched, i => _etcdRelays[i].Select(r => $"http://127.0.0.1:{r.Port}"));
        _monitors = new MonitorProcesses(_config);
        Directory.CreateDirectory(ActionsDirectory);

        // The soak's own reader: straight to etcd, never through a monitor's relays.
        _etcdReader = new EtcdGateway(new EtcdOptions { Endpoints = [.. etcd.ClientUrls] }, TimeProvider.System);
    }

    public LocalEtcdCluster Etcd { get; }

    public IReadOnlyList<LocalPostgresServer> Nodes { get; }

    public LocalPostgresServer Primary => _pair.Primary;

    /// <summary>None for the observer: the round polls all three monitors itself (<see cref="MonitorWatch"/>).</summary>
    public MonitorProcess? Monitor => null;

    public static TimeSpan LeaseTtl => TimeSpan.FromSeconds(LeaseTtlSeconds);

    /// <summary>Where <c>act.sh</c> writes <c>fence.log</c>, <c>stop.log</c> and <c>hook.log</c>.</summary>
    public string ActionsDirectory => Path.Combine(_pair.Directory, "actions");

    public static string Name(int index) => MonitorGroupConfig.Name(index);

    public bool IsRunning(int index) => _monitors.IsRunning(index);

    public Uri BaseAddress(int index) => new($"http://127.0.0.1:{_config.HttpPort(index)}/");

    public static async Task<CoordinatedCluster> StartAsync(int nodeCount, CancellationToken cancellationToken)
    {
        string[] standbySettings = ["wal_receiver_timeout = '5s'", "wal_retrieve_retry_interval = '500ms'"];
        var etcd = await LocalEtcdCluster.StartAsync();
        LocalReplicationPair? pair = null;
        CoordinatedCluster? cluster = null;
        try
        {
            pair = await LocalReplicationPair.StartAsync("fw-csoak-", standbySettings, cancellationToken);
            var third = nodeCount > 2 ? await LocalPostgresServer.CreateStandbyAsync(pair.Primary, "pg3", pair.Directory, cancellationToken, extraSettings: standbySettings) : null;
            cluster = new CoordinatedCluster(etcd, pair, third);
            await pair.Primary.ExecuteAsync("CREATE TABLE soak (id bigint PRIMARY KEY, payload text NOT NULL)", cancellationToken);
            await Wait.UntilAsync(
                async () => await pair.Primary.QueryScalarAsync<long>("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'", cancellationToken) == nodeCount - 1,
                TimeSpan.FromSeconds(60),
                "every standby streaming");
            await File.WriteAllTextAsync(cluster.ActScriptPath, ActScript, cancellationToken);
            await cluster._monitors.StartAllAsync(cancellationToken);
            return cluster;
        }
        catch
        {
            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }
            else
            {
                if (pair is not null)
                {
                    await pair.DisposeAsync();
                }

                await etcd.DisposeAsync();
            }

            throw;
        }
    }

    public Task StartMonitorAsync(int index) => _monitors.StartAsync(index);

    /// <summary>kill -9 of a monitor; its output is kept for the evidence.</summary>
    public Task KillMonitorAsync(int index) => _monitors.KillAsync(index);

    public Task SignalMonitorAsync(int index, string signal) => _monitors.SignalAsync(index, signal);

    /// <summary>Cuts the monitor's relays to the primary, or (<paramref name="everything"/>) to every node and etcd member.</summary>
    public void Cut(int index, bool everything)
    {
        foreach (var relay in everything ? [.. _nodeRelays[index], .. _etcdRelays[index]] : new[] { _nodeRelays[index][0] })
        {
            relay.Cut();
        }
    }

    public void Restore(int index)
    {
        foreach (var relay in _nodeRelays[index].Concat(_etcdRelays[index]).Where(r => r.IsCut))
        {
            relay.Restore();
        }
    }

    public async Task<JsonElement> StatusAsync(int index) => await Http.GetFromJsonAsync<JsonElement>(new Uri(BaseAddress(index), "status"));

    /// <summary>The monitors' views in etcd: each monitor's key and its last write's revision.</summary>
    public async Task<IReadOnlyDictionary<string, long>> ViewRevisionsAsync(CancellationToken cancellationToken)
    {
        var views = await _etcdReader.GetPrefixAsync(_keys.Monitors, cancellationToken);
        return views.ToDictionary(kv => kv.Key.ToStringUtf8()[_keys.Monitors.Length..], kv => kv.ModRevision);
    }

    /// <summary>
    /// The primary recorded in etcd. <c>/status</c> names the writable node a round before the leader records it, and a
    /// primary that dies before any leader recorded it is never failed over (a first start adopts only a writable node).
    /// </summary>
    public async Task<string?> RecordedPrimaryAsync(CancellationToken cancellationToken)
    {
        var stored = await _etcdReader.GetAsync(_keys.State, cancellationToken);
        return stored is null ? null : EtcdStateStore.Parse(stored.Value.Span).Primary;
    }

    /// <summary>Copies every monitor's output, configuration, the action logs and every server log into <paramref name="folder"/>.</summary>
    public async Task SaveEvidenceAsync(string folder)
    {
        Directory.CreateDirectory(folder);
        for (var i = 0; i < MonitorCount; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(folder, $"{Name(i)}.log"), _monitors.Output(i));
            File.Copy(_config.ConfigPath(i), Path.Combine(folder, $"{Name(i)}.yaml"), overwrite: true);
        }

        foreach (var log in Directory.GetFiles(ActionsDirectory, "*.log"))
        {
            File.Copy(log, Path.Combine(folder, "action-" + Path.GetFileName(log)), overwrite: true);
        }

        foreach (var node in Nodes.Where(n => File.Exists(n.LogFile)))
        {
            File.Copy(node.LogFile, Path.Combine(folder, $"{node.Name}.log"), overwrite: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _monitors.DisposeAsync();
            foreach (var relay in _nodeRelays.Concat(_etcdRelays).SelectMany(r => r))
            {
                relay.Dispose();
            }

            if (_third is not null)
            {
                await _third.DisposeAsync();
            }

            await _pair.DisposeAsync();
        }
        finally
        {
            _etcdReader.Dispose();

            // Members a round paused would hold their ports: resumed first, then killed with the rest.
            for (var i = 0; i < MonitorCount; i++)
            {
                await Etcd.ResumeMemberAsync(i);
            }

            await Etcd.DisposeAsync();
        }
    }

    private string ActScriptPath => Path.Combine(ActionsDirectory, "act.sh");

    /// <summary>Appends "START|END time monitor kind target token" around the command it runs, to the log it is given.</summary>
    private const string ActScript = """
        #!/bin/sh
        # act.sh LOG MONITOR KIND TARGET COMMAND...: the soak's independent record of who acted, and when.
        log=$1 monitor=$2 kind=$3 target=$4
        shift 4
        echo "START $(date +%s.%N) $monitor $kind $target ${FW_FENCING_TOKEN:-none}" >> "$log"
        "$@"
        status=$?
        echo "END $(date +%s.%N) $monitor $kind $target $status" >> "$log"
        exit $status

        """;

    /// <summary>A monitor's view of the cluster: every node through its own relays, every command and hook through <c>act.sh</c>.</summary>
    private string Watched(MonitorGroupConfig.Slot slot)
    {
        string Wrapped(string log, string kind, string target, string command) => $"sh {ActScriptPath} {Path.Combine(ActionsDirectory, log)} {slot.Name} {kind} {target} {command}";
        var nodes = Nodes.Select((n, i) => MonitorConfigYaml.Node(
            n.Name, _nodeRelays[slot.Index][i].Port, Wrapped("stop.log", "stop", n.Name, n.StopCommandLine("fast")), Wrapped("fence.log", "fence", n.Name, n.StopCommandLine())));
        return MonitorConfigYaml.Watching(ClusterName, nodes, slot.StateFile) + string.Create(CultureInfo.InvariantCulture, $"""
            hooks:
              on_failover: "{Wrapped("hook.log", "on_failover", "$FW_NEW_PRIMARY", "true")}"
              on_split_brain: "{Wrapped("hook.log", "on_split_brain", "-", "true")}"
              timeout: 5s
            http:
              listen: 127.0.0.1:{slot.HttpPort}

            """);
    }
}
