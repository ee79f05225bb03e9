using System.CommandLine;

namespace FailoverWatch.Cli;

internal static class CheckConfigCommand
{
    public static Command Create()
    {
        var config = ConfigFileOption.Create();
        var command = new Command("check-config", "Validate the configuration file and every path it names") { config };
        command.SetAction(parseResult =>
        {
            if (ConfigFileOption.Load(parseResult, config) is null)
            {
                return ConfigFileOption.InvalidConfigExitCode;
            }

            Console.WriteLine("configuration is valid");
            return 0;
        });
        return command;
    }
}
