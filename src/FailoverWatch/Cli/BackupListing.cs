namespace FailoverWatch.Cli;

/// <summary>One row of <c>failoverwatch backups</c>.</summary>
internal sealed record BackupListing(string Id, DateTimeOffset Time, IReadOnlyList<string> Kinds, long Size, bool? Verified, DateTimeOffset? VerifiedAt, string? Node);
