namespace FailoverWatch.Backup.Store;

/// <summary>A database and the exact row count of each of its tables (<c>schema.table</c>) when it was dumped; what a restore test compares.</summary>
internal sealed record DatabaseRowCounts(string Name, SortedDictionary<string, long> Tables);
