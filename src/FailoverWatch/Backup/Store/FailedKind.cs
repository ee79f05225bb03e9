namespace FailoverWatch.Backup.Store;

/// <summary>A kind a run could not take, and why: the backup holds the other kinds, and <c>kinds</c> does not list this one.</summary>
internal sealed record FailedKind(string Kind, string Reason);
