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
    public List<DatabaseRowCounts> Databases { get; init; } = [];
}
