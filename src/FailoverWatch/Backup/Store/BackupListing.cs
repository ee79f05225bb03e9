namespace FailoverWatch.Backup.Store;

/// <summary>One row of <c>failoverwatch backups</c>.</summary>
internal sealed record BackupListing(string Id, DateTimeOffset Time, IReadOnlyList<string> Kinds, long Size, bool? Verified, DateTimeOffset? VerifiedAt, string? Node)
{
    /// <summary>The kinds the run could not take (the manifest's <c>failed</c>), so a listing shows what a backup lacks.</summary>
    public IReadOnlyList<string>? Failed { get; init; }
}
