using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.LocalServers;
using FailoverWatch.State;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// Three real <c>failoverwatch run</c> monitors (fw1, fw2, fw3) sharing one decision through a real 3-member etcd,
/// watching a real pair. Each monitor reaches the primary through a relay of its own, so a test can cut one monitor
/// off. Everything is torn down on dispose whatever happened.
/// </summary>
public sealed class MonitorGroup : IAsyncDisposable
{
    public const int LeaseTtlSeconds = 3;
    private readonly TcpRelay[] _relays;
    private readonly MonitorGroupConfig _config;
    private readonly MonitorProcesses _monitors;

    private MonitorGroup(LocalEtcdCluster etcd, TestCluster cluster, int count, TestCertificates? certificates)
    {
        Etcd = etcd;
        Cluster = cluster;
        Certificates = certificates;
        _relays = [.. Enumerable.Range(0, count).Select(_ => TcpRelay.Start(cluster.Pair.Primary.Port))];
        _config = new MonitorGroupConfig(cluster.Pair.DirectoryPath, etcd, count, LeaseTtlSeconds, Watched);
        _monitors = new MonitorProcesses(_config, certificates?.CaFile);
    }

    internal LocalEtcdCluster Etcd { get; }

    public TestCluster Cluster { get; }

    /// <summary>The CA and certificate every monitor serves https with; null over plain http.</summary>
    public TestCertificates? Certificates { get; }

    public int Count => _config.Count;

    public MonitorProcess this[int index] => _monitors[index] ?? throw new InvalidOperationException($"{Name(index)} is not running");

    public static string Name(int index) => MonitorGroupConfig.Name(index);

    public static int IndexOf(string name) => MonitorGroupConfig.IndexOf(name);

    public TcpRelay RelayOf(int index) => _relays[index];

    public string ConfigPath(int index) => _config.ConfigPath(index);

    /// <summary>With <paramref name="tls"/>, every monitor serves https with a certificate of a throwaway CA and verifies the others against it.</summary>
    public static async Task<MonitorGroup> StartAsync(string monitorSettings, string walReceiverTimeout = "5s", Func<TestCluster, string>? pg1FenceCommand = null, int count = 3, Func<TestCluster, string>? pg1StopCommand = null, bool tls = false)
    {
        var etcd = await LocalEtcdCluster.StartAsync();
        TestCluster? cluster = null;
        MonitorGroup? group = null;
        try
        {
            cluster = await TestCluster.StartAsync(monitorSettings, walReceiverTimeout: walReceiverTimeout, pg1FenceCommand: pg1FenceCommand, pg1StopCommand: pg1StopCommand);
            group = new MonitorGroup(etcd, cluster, count, tls ? await TestCertificates.WriteAsync(cluster.Pair.DirectoryPath) : null);
            await group._monitors.StartAllAsync(CancellationToken.None);
            return group;
        }
        catch
        {
            if (group is not null)
            {
                await group.DisposeAsync();
            }
            else
            {
                if (cluster is not null)
                {
                    await cluster.DisposeAsync();
                }

                await etcd.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>A monitor of this group's cluster beyond the three, named <paramref name="name"/>, on a port of its own.</summary>
    public async Task<string> WriteExtraConfigAsync(string name, int httpPort)
    {
        // Its own state file, as on another host: the name alone is what it shares with a running monitor.
        var path = Cluster.File($"extra-{name}.yaml");
        await File.WriteAllTextAsync(path, _config.Text(0, name, httpPort, Cluster.File($"extra-{name}-state.json")));
        return path;
    }

    /// <summary>
    /// Waits until every running monitor (or those of <paramref name="among"/>) names the same leader, other than
    /// <paramref name="notIndex"/>; its index.
    /// </summary>
    public async Task<int> WaitForLeaderAsync(TimeSpan within, int? notIndex = null, int[]? among = null)
    {
        var leader = -1;
        await Wait.UntilAsync(
            async () =>
            {
                var named = new HashSet<string?>();
                foreach (var monitor in among?.Select(i => this[i]) ?? Running())
                {
                    named.Add((await monitor.StatusAsync()).GetProperty("leader").GetString());
                }

                if (named.Count != 1 || named.Single() is not { } name || IndexOf(name) == notIndex || _monitors[IndexOf(name)] is null)
                {
                    return false;
                }

                leader = IndexOf(name);
                return await this[leader].MetricAsync("failoverwatch_is_leader{cluster=\"test\"}") == 1;
            },
            within,
            "one leader named by every running monitor");
        return leader;
    }

    public IEnumerable<MonitorProcess> Running() => _monitors.Running();

    public Task StartMonitorAsync(int index) => _monitors.StartAsync(index);

    /// <summary>kill -9 of one monitor; what it printed is kept for <see cref="UntilAsync"/>'s explanations.</summary>
    public Task KillMonitorAsync(int index) => _monitors.KillAsync(index);

    /// <summary>Waits like <see cref="Wait.UntilAsync(Func{Task{bool}}, TimeSpan, string)"/>; a time-out carries what every monitor printed, so it explains itself.</summary>
    public async Task UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, string what)
    {
        try
        {
            await Wait.UntilAsync(condition, deadline, what);
        }
        catch (TimeoutException e)
        {
            var outputs = Enumerable.Range(0, Count).Select(i => $"--- {Name(i)}{(_monitors[i] is null ? " (killed)" : "")}:\n{_monitors.Output(i)}");
            throw new TimeoutException($"{e.Message}\n{string.Join('\n', outputs)}", e);
        }
    }

    /// <summary>The cluster state as etcd holds it.</summary>
    internal async Task<FailoverState> StateAsync()
    {
        using var etcd = new EtcdGateway(new EtcdOptions { Endpoints = [.. Etcd.ClientUrls] }, TimeProvider.System);
        var stored = await etcd.GetAsync(EtcdKeys.For("/failoverwatch", "test").State, CancellationToken.None);
        return stored is null ? FailoverState.Empty : EtcdStateStore.Parse(stored.Value.Span);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _monitors.DisposeAsync();
            foreach (var relay in _relays)
            {
                relay.Dispose();
            }

            await Cluster.DisposeAsync();
        }
        finally
        {
            await Etcd.DisposeAsync();
        }
    }

    private string TlsSetting() =>
        Certificates is { } c ? $"  tls: {{ cert_file: {c.CertFile}, key_file: {c.KeyFile}, ca_file: {c.CaFile} }}\n" : "";

    /// <summary>The test cluster's configuration with this monitor's own port, relay to the primary and state file.</summary>
    private string Watched(MonitorGroupConfig.Slot slot) =>
        File.ReadAllText(Cluster.ConfigPath)
            .Replace($"listen: 127.0.0.1:{Cluster.HttpPort}\n", $"listen: 127.0.0.1:{slot.HttpPort}\n{TlsSetting()}", StringComparison.Ordinal)
            .Replace($"port: {Cluster.Pair.Primary.Port}\n", $"port: {_relays[slot.Index].Port}\n", StringComparison.Ordinal)
            .Replace($"state_file: {Cluster.StatePath}\n", $"state_file: {slot.StateFile}\n", StringComparison.Ordinal);
}
