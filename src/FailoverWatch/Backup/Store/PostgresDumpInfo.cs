namespace FailoverWatch.Backup.Store;

/// <summary>Where and how the dump was taken.</summary>
internal sealed record PostgresDumpInfo
{
    public required string Node { get; init; }
    public required string Role { get; init; }
    public required string ServerVersion { get; init; }
    public required string DumpFile { get; init; }
    public required string Compression { get; init; }
    public long UncompressedBytes { get; init; }
    /// <summary>How far the standby dumped from was behind the primary (0: caught up); absent for a primary.</summary>
    public double? StandbyDelaySeconds { get; init; }
    /// <summary>With <c>from: standby</c>, why the primary was dumped instead (the standbys past <c>max_standby_delay</c>).</summary>
    public string? InsteadOfStandby { get; init; }
    public List<DatabaseRowCounts> Databases { get; init => field = value ?? []; } = [];
}
