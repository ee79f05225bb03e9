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

        // An empty file (or one holding only comments) is an empty mapping: it lacks every required key.
        var root = stream.Documents.Count == 0 ? new YamlMappingNode() : stream.Documents[0].RootNode switch
        {
            YamlMappingNode mapping => mapping,
            YamlScalarNode { Value: null or "" or "~" or "null" } => new YamlMappingNode(),
            _ => null,
        };
        if (root is null)
        {
            return (null, [new ConfigProblem("config", "the file holds no mapping of settings")]);
        }

        var binder = new YamlBinder();
        var options = binder.Bind<FailoverWatchOptions>(root);
        var validation = ConfigValidator.Validate(options, baseDirectory);
        List<ConfigProblem> problems = [.. binder.Problems];
        if (!root.Children.ContainsKey(new YamlScalarNode("cluster")))
        {
            // One line for the whole missing section, not one per key inside it.
            problems.Add(new ConfigProblem("cluster", "required (the cluster's name and its nodes)"));
            validation = [.. validation.Where(p => !p.Key.StartsWith("cluster.", StringComparison.Ordinal))];
        }

        problems.AddRange(validation);
        return problems.Count == 0 ? (options, problems) : (null, problems);
    }
}
