using System.Globalization;

namespace FailoverWatch.LocalServers;

/// <summary>
/// The pieces of a monitor's YAML configuration that the local clusters (the demo, the soak, the tests' monitor
/// group, the benchmarks) write alike. Commands are written inside YAML double quotes: a <c>"</c> in one must be <c>\"</c>.
/// </summary>
internal static class MonitorConfigYaml
{
    /// <summary>
    /// The <c>cluster:</c> section of <paramref name="nodes"/> (from <see cref="Node"/>) and the start of <c>monitor:</c>:
    /// the local clusters' fast probing (every second, a 2 s timeout, down after 3 failures) and the state file; with a line end.
    /// </summary>
    public static string Watching(string clusterName, IEnumerable<string> nodes, string stateFile) => $"""
        cluster:
          name: {clusterName}
          nodes:
        {string.Join('\n', nodes)}
        monitor:
          probe_interval: 1s
          probe_timeout: 2s
          failure_threshold: 3
          state_file: {stateFile}

        """;

    /// <summary>One entry of <c>cluster.nodes</c>, indented to stand under <c>  nodes:</c>, without a line end.</summary>
    public static string Node(string name, int port, string stopCommand, string fenceCommand, string? rejoinCommand = null) =>
        string.Create(CultureInfo.InvariantCulture, $"""
                - name: {name}
                  host: 127.0.0.1
                  port: {port}
                  user: {LocalPostgresServer.Superuser}
                  stop_command: "{stopCommand}"
                  fence_command: "{fenceCommand}"
            """) + (rejoinCommand is null ? "" : $"\n      rejoin_command: \"{rejoinCommand}\"");

    /// <summary>The <c>coordination:</c> section of monitor <paramref name="name"/> on the etcd it reaches at <paramref name="endpoints"/>, with its line end.</summary>
    public static string Coordination(string name, IEnumerable<string> endpoints, int leaseTtlSeconds) => string.Create(CultureInfo.InvariantCulture, $"""
        coordination:
          monitor_name: {name}
          etcd:
            endpoints: {Endpoints(endpoints)}
            lease_ttl: {leaseTtlSeconds}s

        """);

    /// <summary>etcd endpoints as a YAML flow list.</summary>
    public static string Endpoints(IEnumerable<string> urls) => "[" + string.Join(", ", urls.Select(u => $"\"{u}\"")) + "]";
}
