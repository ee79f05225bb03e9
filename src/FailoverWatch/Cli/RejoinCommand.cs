using System.CommandLine;
using FailoverWatch.Configuration;
using FailoverWatch.LocalServers;
using FailoverWatch.Rejoin;

namespace FailoverWatch.Cli;

internal static class RejoinCommand
{
    public static Command Create()
    {
        var pgdata = new Option<string>("--pgdata") { Description = "The node's data directory", Required = true };
        var source = new Option<string>("--source") { Description = "The new primary, a libpq connection string (host=... port=... user=... dbname=...)", Required = true };
        var node = new Option<string>("--node") { Description = "The node's name, its application_name when streaming (default: the host name)" };
        var configFile = new Option<string?>("--config-file") { Description = "The main postgresql.conf when it lives outside PGDATA (Debian: /etc/postgresql/15/main/postgresql.conf)" };
        var primaryConninfo = new Option<string?>("--primary-conninfo") { Description = "How the node streams from the primary, when not as --source" };
        var salvageDir = new Option<string?>("--salvage-dir") { Description = "Where WAL past the fork is saved (default: PGDATA's parent/failoverwatch-salvage)" };
        var startCommand = new Option<string?>("--start-command") { Description = "Starts the server, through the service manager the fence stops (default: pg_ctl start)" };
        var stopCommand = new Option<string?>("--stop-command") { Description = "Stops the server if it runs (default: pg_ctl stop -m fast)" };
        var streamTimeout = new Option<string>("--stream-timeout") { Description = "How long the started node may take to stream", DefaultValueFactory = _ => "5m" };
        var allowReclone = new Option<bool>("--allow-reclone")
        {
            Description = "When pg_rewind cannot fix the node: move its data directory aside (one such copy kept, free space checked first) and take a fresh pg_basebackup of --source. For a person to pass; never put it in a rejoin_command",
        };
        var command = new Command("rejoin", "On a node's host, as the PostgreSQL OS user: make that node a streaming standby of --source, saving first what only it had")
        {
            pgdata, source, node, configFile, primaryConninfo, salvageDir, startCommand, stopCommand, streamTimeout, allowReclone,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            RejoinRequest request;
            try
            {
                var directory = Path.GetFullPath(parseResult.GetRequiredValue(pgdata));
                if (!Duration.TryParse(parseResult.GetRequiredValue(streamTimeout), out var wait) || wait <= TimeSpan.Zero)
                {
                    throw new FormatException("--stream-timeout: not a duration (use 30s, 5m)");
                }

                request = new RejoinRequest(
                    directory,
                    Conninfo.Parse(parseResult.GetRequiredValue(source)),
                    parseResult.GetValue(node) ?? Environment.MachineName,
                    parseResult.GetValue(primaryConninfo) is { } conninfo ? Conninfo.Parse(conninfo) : null,
                    parseResult.GetValue(configFile) is { } file ? Path.GetFullPath(file) : null,
                    Path.GetFullPath(parseResult.GetValue(salvageDir) ?? Path.Combine(Path.GetDirectoryName(directory.TrimEnd('/'))!, "failoverwatch-salvage")),
                    parseResult.GetValue(startCommand),
                    parseResult.GetValue(stopCommand),
                    wait,
                    parseResult.GetValue(allowReclone));
            }
            catch (FormatException e)
            {
                Console.Error.WriteLine($"rejoin: {e.Message}");
                return ConfigFileOption.InvalidConfigExitCode;
            }

            try
            {
                var outcome = await new NodeRejoiner(request, PostgresBinaries.Find(), Console.Out, TimeProvider.System).RunAsync(cancellationToken);
                Console.WriteLine(NodeRejoiner.ToJson(outcome));
                return 0;
            }
            catch (Exception e) when (e is RejoinRefusedException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                Console.Error.WriteLine($"rejoin failed: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
