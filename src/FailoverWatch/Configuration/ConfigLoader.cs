using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FailoverWatch.Configuration;

/// <summary>Reads, binds and validates a configuration file; every problem is collected, none thrown half-way.</summary>
internal static class ConfigLoader
{
    public static FailoverWatchOptions Load(string path)
    {
        var (options, problems) = TryLoad(path);
        return problems.Count == 0 ? options! : throw new InvalidConfigException(problems);
    }

    public static (FailoverWatchOptions? Options, IReadOnlyList<ConfigProblem> Problems) TryLoad(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, [new ConfigProblem("config", $"cannot read {path}: {e.Message}")]);
        }

        return Parse(text, Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    // Relative paths in the file are taken relative to baseDirectory.
    public static (FailoverWatchOptions? Options, IReadOnlyList<ConfigProblem> Problems) Parse(string yaml, string baseDirectory)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            return (null, [new ConfigProblem("config", $"not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.InnerException?.Message ?? e.Message}")]);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            return (null, [new ConfigProblem("config", "the file holds no mapping of settings")]);
        }

        var binder = new YamlBinder();
        var options = binder.Bind<FailoverWatchOptions>(root);
        var problems = binder.Problems.Concat(ConfigValidator.Validate(options, baseDirectory)).ToList();
        return problems.Count == 0 ? (options, problems) : (null, problems);
    }
}
