namespace FailoverWatch.Configuration;

/// <summary>One thing wrong with the configuration, printed as <c>KEY: problem</c>.</summary>
internal sealed record ConfigProblem(string Key, string Problem)
{
    public override string ToString() => $"{Key}: {Problem}";
}

/// <summary>Thrown when a configuration cannot be used; carries every problem found.</summary>
internal sealed class InvalidConfigException(IReadOnlyList<ConfigProblem> problems)
    : Exception(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<ConfigProblem> Problems { get; } = problems;
}
