using System.CommandLine;
using FailoverWatch.Configuration;

namespace FailoverWatch.Cli;

/// <summary>The <c>--config FILE</c> option every command shares, and the one way a command loads it.</summary>
internal static class ConfigFileOption
{
    public const int InvalidConfigExitCode = 2;

    public static Option<string> Create() => new("--config", "-c")
    {
        Description = "The YAML configuration file",
        Required = true,
    };

    /// <summary>Loads the file; on any problem prints one <c>KEY: problem</c> line each to stderr and returns null.</summary>
    public static FailoverWatchOptions? Load(ParseResult parseResult, Option<string> option)
    {
        var (options, problems) = ConfigLoader.TryLoad(parseResult.GetRequiredValue(option));
        foreach (var problem in problems)
        {
            Console.Error.WriteLine(problem);
        }

        return options;
    }
}
