namespace FailoverWatch.Hosting;

/// <summary>Where the running configuration came from, for commands that talk to the running host.</summary>
internal sealed record ConfigSource(string Path);
