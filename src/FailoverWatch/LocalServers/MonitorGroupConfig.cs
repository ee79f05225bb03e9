using System.Globalization;

namespace FailoverWatch.LocalServers;

/// <summary>
/// The configuration files of monitors fw1, fw2, ... that watch one cluster and share one decision through a
/// <see cref="LocalEtcdCluster"/>, in the cluster's folder: each monitor with a name, HTTP port, state file and
/// <c>coordination:</c> section of its own. What a monitor watches and runs (its nodes, maybe through relays of its
/// own, its commands and hooks) is the caller's, given the monitor's <see cref="Slot"/>. The soak's three-monitor
/// rounds and the integration tests' monitor group write theirs here.
/// </summary>
internal sealed class MonitorGroupConfig
{
    private readonly string _directory;
    private readonly LocalEtcdCluster _etcd;
    private readonly int _leaseTtlSeconds;
    private readonly Func<Slot, string> _watched;
    private readonly Func<int, IEnumerable<string>>? _endpoints;
    private readonly int[] _httpPorts;

    /// <param name="watched">A monitor's configuration but its coordination section: <c>http.listen</c> on the slot's port and <c>monitor.state_file</c> the slot's.</param>
    /// <param name="endpoints">The etcd URLs monitor i reaches (relays of its own); default etcd's own.</param>
    public MonitorGroupConfig(string directory, LocalEtcdCluster etcd, int count, int leaseTtlSeconds, Func<Slot, string> watched, Func<int, IEnumerable<string>>? endpoints = null)
    {
        _directory = directory;
        _etcd = etcd;
        _leaseTtlSeconds = leaseTtlSeconds;
        _watched = watched;
        _endpoints = endpoints;
        _httpPorts = [.. Enumerable.Range(0, count).Select(_ => OsUser.FreeLoopbackPort())];
    }

    public int Count => _httpPorts.Length;

    public static string Name(int index) => $"fw{index + 1}";

    public static int IndexOf(string name) => int.Parse(name[2..], CultureInfo.InvariantCulture) - 1;

    public int HttpPort(int index) => _httpPorts[index];

    public string ConfigPath(int index) => Path.Combine(_directory, $"{Name(index)}.yaml");

    public string StateFile(string name) => Path.Combine(_directory, name + "-state.json");

    /// <summary>Monitor <paramref name="index"/>'s configuration under another name, port or state file: one more monitor of the same cluster.</summary>
    public string Text(int index, string name, int httpPort, string stateFile) =>
        _watched(new Slot(index, name, httpPort, stateFile)) + MonitorConfigYaml.Coordination(name, _endpoints?.Invoke(index) ?? _etcd.ClientUrls, _leaseTtlSeconds);

    /// <summary>Writes every monitor's configuration file.</summary>
    public async Task WriteAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < Count; i++)
        {
            await File.WriteAllTextAsync(ConfigPath(i), Text(i, Name(i), HttpPort(i), StateFile(Name(i))), cancellationToken);
        }
    }

    /// <summary>Which monitor a configuration is for (its relays, by index), its name, HTTP port and state file.</summary>
    public readonly record struct Slot(int Index, string Name, int HttpPort, string StateFile);
}
