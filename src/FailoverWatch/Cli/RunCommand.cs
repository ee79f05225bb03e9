using System.CommandLine;
using FailoverWatch.Failover;
using FailoverWatch.Hosting;
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
            await ((IHost)host).RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
