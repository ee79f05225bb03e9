namespace FailoverWatch.Configuration;

internal sealed class BackupOptions
{
    public string Destination { get; set; } = "";
    /// <summary>Cron expression, UTC. Absent: backups are taken only on demand.</summary>
    public string? Schedule { get; set; }
    public RetentionOptions Retention { get; set; } = new();
    public OffsiteOptions? Offsite { get; set; }
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

internal sealed class OffsiteOptions
{
    public string Path { get; set; } = "";
}

internal sealed class PostgresBackupOptions
{
    public bool Enabled { get; set; } = true;
    /// <summary><c>standby</c> or <c>primary</c>.</summary>
    public string From { get; set; } = "standby";
    public string? User { get; set; }
    public string? PasswordFile { get; set; }
}

internal sealed class SecretsBackupOptions
{
    public List<string> Paths { get; set; } = [];
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
}

internal sealed class CertsBackupOptions
{
    public string Path { get; set; } = "/etc/letsencrypt";
}
