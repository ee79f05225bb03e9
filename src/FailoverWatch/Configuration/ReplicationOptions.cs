namespace FailoverWatch.Configuration;

/// <summary><c>replication:</c> whether FailoverWatch keeps synchronous standbys named on the primary, and how many.</summary>
internal sealed class ReplicationOptions
{
    /// <summary><c>async</c>, <c>sync</c> or <c>strict</c>: words, not on/off, which YAML 1.1 tools read as booleans.</summary>
    public string Mode { get; set; } = ReplicationModes.Async;

    /// <summary>Standbys named in <c>synchronous_standby_names</c>, each of which confirms every commit.</summary>
    public int Number { get; set; } = 1;

    /// <summary>sync: a commit waiting this long on a silent standby drops it, and commits go on.</summary>
    public TimeSpan DegradeAfter { get; set; } = TimeSpan.FromSeconds(5);

    public bool Synchronous => Mode != ReplicationModes.Async;
}

internal static class ReplicationModes
{
    public const string Async = "async";
    public const string Sync = "sync";
    public const string Strict = "strict";

    public static readonly string[] All = [Async, Sync, Strict];
}
