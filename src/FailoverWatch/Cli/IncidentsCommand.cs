using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Failover;
using FailoverWatch.State;

namespace FailoverWatch.Cli;

/// <summary><c>failoverwatch incidents</c> lists the recorded incidents; <c>failoverwatch explain ID</c> replays one.</summary>
internal static class IncidentsCommand
{
    public static Command List()
    {
        var config = ConfigFileOption.Create();
        var json = new Option<bool>("--json") { Description = "Print JSON (the shape of GET /incidents)" };
        var command = new Command("incidents", "List recorded incidents: failovers, held failovers, refused promotions, split brains, adoptions") { config, json };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (ConfigFileOption.Load(parseResult, config) is not { } options)
            {
                return ConfigFileOption.InvalidConfigExitCode;
            }

            if (await LoadAsync(options, cancellationToken) is not { } incidents)
            {
                return 1;
            }

            if (parseResult.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(incidents, FailoverStateJsonContext.Default.IReadOnlyListIncident));
                return 0;
            }

            Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-40} {1,-18} {2,-14} {3,-9} {4,9}  {5}", "ID", "KIND", "NODES", "RESULT", "SECONDS", "REASON"));
            foreach (var incident in incidents)
            {
                var seconds = (incident.Phases.LastOrDefault()?.At ?? incident.At) - incident.At;
                Console.WriteLine(string.Format(
                    CultureInfo.InvariantCulture, "{0,-40} {1,-18} {2,-14} {3,-9} {4,9:0.000}  {5}",
                    incident.Id, incident.Kind, IncidentReplay.Route(incident).Trim(), incident.Result ?? "under way", seconds.TotalSeconds, incident.Reason));
            }

            return 0;
        });
        return command;
    }

    public static Command Explain()
    {
        var config = ConfigFileOption.Create();
        var id = new Argument<string>("INCIDENT") { Description = "An incident id from failoverwatch incidents" };
        var command = new Command("explain", "Replay an incident's recorded rounds through the failover policy and say why each decided what it did") { config, id };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (ConfigFileOption.Load(parseResult, config) is not { } options)
            {
                return ConfigFileOption.InvalidConfigExitCode;
            }

            var wanted = parseResult.GetRequiredValue(id);
            if (await LoadAsync(options, cancellationToken) is not { } incidents)
            {
                return 1;
            }

            if (incidents.FirstOrDefault(i => i.Id == wanted) is not { } incident)
            {
                Console.Error.WriteLine($"INCIDENT: no incident {wanted} in {(options.Coordination is null ? options.Monitor.StateFile : "etcd")}");
                return 1;
            }

            Console.Write(IncidentReplay.Explain(incident));
            return 0;
        });
        return command;
    }

    /// <summary>With coordination, etcd's incidents (whoever leads); without, the state file's. Null, said why, when etcd does not answer.</summary>
    private static async Task<IReadOnlyList<Incident>?> LoadAsync(FailoverWatchOptions options, CancellationToken cancellationToken) =>
        options.Coordination is not { } coordination
            ? FailoverStateStore.Load(options.Monitor.StateFile).Incidents
            : await SharedClusterState.FromEtcdAsync(options, coordination, (etcd, keys) => EtcdIncidents.ReadAsync(etcd, keys, cancellationToken));
}
