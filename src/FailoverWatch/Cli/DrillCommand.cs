using System.CommandLine;
using System.Text.Json;
using FailoverWatch.Drill;
using FailoverWatch.Http;

namespace FailoverWatch.Cli;

/// <summary>
/// <c>failoverwatch drill</c>: a switchover to the best standby and back through the running host, proving with a canary
/// that no acknowledged write was lost. Progress on stderr, the report as one JSON line on stdout.
/// </summary>
internal static class DrillCommand
{
    public static Command Create()
    {
        var config = ConfigFileOption.Create();
        var command = new Command("drill", "Switch over to the best standby and back through the running host, with canary writes throughout") { config };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (ConfigFileOption.Load(parseResult, config) is not { } options)
            {
                return ConfigFileOption.InvalidConfigExitCode;
            }

            if (options.Http.AdminTokenFile is null)
            {
                await Console.Error.WriteLineAsync("http.admin_token_file: not set, so the host's switchover endpoint is off");
                return 1;
            }

            // A switchover waits for the target to catch up; the host bounds it, not this client.
            using var http = MonitorHttpClient.Create(options.Http, TimeSpan.FromMinutes(5));
            var runner = new DrillRunner(options, new ClusterControl(options, http), TimeProvider.System, Console.Error);
            var report = await runner.RunAsync(cancellationToken);
            Console.WriteLine(JsonSerializer.Serialize(report, DrillJsonContext.Default.DrillReport));
            return report.Passed ? 0 : 1;
        });
        return command;
    }
}
