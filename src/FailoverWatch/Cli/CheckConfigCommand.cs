using System.CommandLine;
using FailoverWatch.Backup;
using FailoverWatch.Configuration;

namespace FailoverWatch.Cli;

internal static class CheckConfigCommand
{
    public static Command Create()
    {
        var config = ConfigFileOption.Create();
        var command = new Command("check-config", "Validate the configuration file and every path it names") { config };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (ConfigFileOption.Load(parseResult, config) is not { } options)
            {
                return ConfigFileOption.InvalidConfigExitCode;
            }

            foreach (var warning in ConfigValidator.Warnings(options).Concat(await BackupSourceWarnings.CheckAsync(options, cancellationToken)))
            {
                Console.Error.WriteLine($"warning: {warning}");
            }

            Console.WriteLine("configuration is valid");
            return 0;
        });
        return command;
    }
}
