using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FailoverWatch.Http;
using FailoverWatch.Monitoring;
using FailoverWatch.State;

namespace FailoverWatch.Cli;

internal static class StatusCommand
{
    public static Command Create()
    {
        var config = ConfigFileOption.Create();
        var json = new Option<bool>("--json") { Description = "Print JSON (the shape of GET /status)" };
        var command = new Command("status", "Probe every node once and print role, reachability and lag") { config, json };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (ConfigFileOption.Load(parseResult, config) is not { } options)
            {
                return ConfigFileOption.InvalidConfigExitCode;
            }

            // With coordination etcd's state, as every monitor shows it; a probe of the nodes still answers without etcd.
            var shared = await SharedClusterState.StatusAsync(options, cancellationToken) ?? new SharedStatus(FailoverState.Empty, null);
            var state = shared.State;
            await using var prober = new ClusterProber(options, TimeProvider.System);
            var reports = await prober.ProbeAllAsync(cancellationToken);
            var view = ClusterView.Build(reports, state.Primary, null, DateTimeOffset.UtcNow);
            var document = StatusDocument.From(options.Cluster.Name, view, state, options.Monitor.AutoFailover, new Dictionary<string, DateTimeOffset>()) with { Replication = ReplicationStatusDocument.From(options.Replication, state), Coordination = shared.Coordination };
            Console.WriteLine(parseResult.GetValue(json) ? JsonSerializer.Serialize(document, StatusJsonContext.Indented.StatusDocument) : Table(document));
            return view.Primaries.Any(p => p.Report.Writable) ? 0 : 1;
        });
        return command;
    }

    private static string Table(StatusDocument status)
    {
        var lines = new List<string>
        {
            $"cluster {status.Cluster}: primary {status.Primary ?? "NONE"}{(status.Paused ? " (automatic failover paused)" : "")}{(status.Coordination?["leader"] is { ValueKind: JsonValueKind.String } leader ? $"; leader {leader.GetString()}" : "")}",
            string.Format(CultureInfo.InvariantCulture, "{0,-12} {1,-8} {2,-9} {3,14} {4,12} {5,-9} {6,8}  {7}", "NODE", "ROLE", "REACHABLE", "LAG_BYTES", "LAG_SECONDS", "STREAMING", "PROBE_MS", "ERROR"),
        };
        lines.AddRange(status.Nodes.Select(n => string.Format(
            CultureInfo.InvariantCulture,
            "{0,-12} {1,-8} {2,-9} {3,14} {4,12:0.###} {5,-9} {6,8:0.0}  {7}",
            n.Name,
            n.Role,
            n.Reachable ? "yes" : "no",
            n.LagBytes?.ToString(CultureInfo.InvariantCulture) ?? "-",
            n.LagSeconds,
            n.Streaming switch { true => "yes", false => "no", null => "-" },
            n.ProbeMilliseconds,
            n.Error ?? "")));
        return string.Join(Environment.NewLine, lines);
    }
}
