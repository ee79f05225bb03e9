namespace FailoverWatch.Backup;

/// <summary>The kinds, in order of importance: the run takes them in this order, so the database is dumped first.</summary>
internal static class BackupKinds
{
    public const string Postgres = "postgres";
    public const string Secrets = "secrets";
    public const string Media = "media";
    public const string Redis = "redis";
    public const string Certs = "certs";

    public static readonly IReadOnlyList<string> All = [Postgres, Secrets, Media, Redis, Certs];

    /// <summary>The kinds read from the monitor's own host: with coordination every monitor takes these; the dump is the leader's.</summary>
    public static readonly IReadOnlyList<string> OwnHost = [Secrets, Media, Redis, Certs];
}
