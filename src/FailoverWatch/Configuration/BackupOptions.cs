namespace FailoverWatch.Configuration;

internal sealed class BackupOptions
{
    public string Destination { get; set; } = "";
    /// <summary>Cron expression, UTC. Absent: backups are taken only on demand.</summary>
    public string? Schedule { get; set; }
    /// <summary>Cron expression, UTC: when to restore the newest dump into a scratch PostgreSQL and compare row counts. Absent: never by itself.</summary>
    public string? RestoreTestSchedule { get; set; }
    /// <summary>The OS account the restore test runs its scratch server and psql as (root only). Absent: failoverwatch-restore if it exists, else nobody.</summary>
    public string? RestoreTestUser { get; set; }
    /// <summary>Not root: the socket unit that runs the restore test as its own account (contrib/failoverwatch-restore.socket).</summary>
    public string RestoreTestSocket { get; set; } = "/run/failoverwatch-restore.sock";
    public RetentionOptions Retention { get; set; } = new();
    public OffsiteOptions? Offsite { get; set; }
    /// <summary>With an off-site target, local backups not off-site yet are kept past retention until free space falls below this.</summary>
    public ByteSize MinFree { get; set; } = ByteSize.FromMegabytes(1024);
    public PostgresBackupOptions? Postgres { get; set; }
    public SecretsBackupOptions? Secrets { get; set; }
    public MediaBackupOptions? Media { get; set; }
    public RedisBackupOptions? Redis { get; set; }
    public CertsBackupOptions? Certs { get; set; }
}

internal sealed class RetentionOptions
{
    public int KeepLast { get; set; } = 7;
    public int KeepDaily { get; set; } = 14;
    public int KeepWeekly { get; set; } = 8;
}

/// <summary>Where complete backups are copied after the local run: a mounted folder (<c>path</c>) or a restic repository.</summary>
internal sealed class OffsiteOptions
{
    public string? Path { get; set; }
    public ResticOptions? Restic { get; set; }
}

/// <summary>An existing restic repository; FailoverWatch never creates one.</summary>
internal sealed class ResticOptions
{
    /// <summary>Any restic backend (path, sftp:, s3:, b2:, rest:, rclone:); given to restic as RESTIC_REPOSITORY.</summary>
    public string Repository { get; set; } = "";
    /// <summary>The repository password, given to restic as RESTIC_PASSWORD_FILE.</summary>
    public string PasswordFile { get; set; } = "";
    /// <summary>KEY=VALUE lines (backend credentials) loaded into restic's environment only.</summary>
    public string? EnvFile { get; set; }
    /// <summary>restic's <c>-o key=value</c> extended options (e.g. <c>sftp.command=...</c>); on its command line, so never secrets.</summary>
    public List<string> Options { get; set; } = [];
    /// <summary>Bound on each restic command.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromHours(6);
}

internal sealed class PostgresBackupOptions
{
    public bool Enabled { get; set; } = true;
    /// <summary><c>standby</c> or <c>primary</c>.</summary>
    public string From { get; set; } = "standby";
    public string? User { get; set; }
    public string? PasswordFile { get; set; }
    /// <summary><c>zstd</c> (default: fastest at the same ratio, measured in bench/), <c>gzip</c> or <c>none</c>.</summary>
    public string Compression { get; set; } = "zstd";
    /// <summary>Compression level; 0 means the compressor's default (zstd 3, gzip 6).</summary>
    public int CompressionLevel { get; set; }
    /// <summary>The pg_dumpall program; absent: the newest one of the machine's PostgreSQL binaries.</summary>
    public string? PgDumpall { get; set; }
    /// <summary>With <c>from: standby</c>, a standby whose replay is further behind the primary than this is not dumped.</summary>
    public TimeSpan MaxStandbyDelay { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>Bound on the whole dump.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromHours(6);
}

internal sealed class SecretsBackupOptions
{
    public List<string> Paths { get; set; } = [];
    /// <summary>The running host backs the secrets up within 60 s of a change to any of them.</summary>
    public bool OnChange { get; set; } = true;
}

internal sealed class MediaBackupOptions
{
    public string Path { get; set; } = "";
}

internal sealed class RedisBackupOptions
{
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 6379;
    public string RdbPath { get; set; } = "/var/lib/redis/dump.rdb";
    public TimeSpan SaveTimeout { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>An ACL user (Redis 6+); absent: the default user.</summary>
    public string? User { get; set; }
    /// <summary>The file holding <c>requirepass</c> or the ACL user's password; absent: no AUTH.</summary>
    public string? PasswordFile { get; set; }
}

internal sealed class CertsBackupOptions
{
    public string Path { get; set; } = "/etc/letsencrypt";
    /// <summary>The running host backs the tree up within 60 s of a change (a certbot renewal).</summary>
    public bool OnChange { get; set; } = true;
}
