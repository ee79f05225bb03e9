namespace FailoverWatch.Backup.Store;

/// <summary>The last <c>verify</c> of a backup (<c>verified.json</c> beside its manifest), shown by <c>backups</c>.</summary>
internal sealed record VerificationRecord(DateTimeOffset VerifiedAt, bool Ok, bool RestoreTested, IReadOnlyList<string> Problems);
