using System.CommandLine;
using FailoverWatch.Coordination;
using FailoverWatch.Hosting;
using FailoverWatch.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FailoverWatch.Cli;

internal static class RunCommand
{
    public static Command Create()
    {
        var config = ConfigFileOption.Create();
        var command = new Command("run", "Run the host: monitor, failover, backup schedule and HTTP endpoint until stopped") { config };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (ConfigFileOption.Load(parseResult, config) is not { } options)
            {
                return ConfigFileOption.InvalidConfigExitCode;
            }

            using var stateLock = StateFileLock.TryAcquire(options.Monitor.StateFile, out var holder);
            if (stateLock is null)
            {
                Console.Error.WriteLine($"monitor.state_file: {options.Monitor.StateFile} is in use by another failoverwatch run ({holder}); one monitor per state file");
                return 1;
            }

            await using var host = FailoverWatchHost.Build(options);

            // Taken before running: RunAsync disposes the host, and its services with it.
            var coordination = host.Services.GetService<ClusterCoordination>();
            await ((IHost)host).RunAsync(cancellationToken);

            // A monitor that refused to join its group (its monitor_name taken) stopped itself: not a clean stop.
            return coordination?.Refusal is null ? 0 : 1;
        });
        return command;
    }
}
