using System.Net;
using Cronos;

namespace FailoverWatch.Configuration;

/// <summary>Rules across settings that the binder cannot see: counts, ranges, uniqueness, readable files.</summary>
internal static class ConfigValidator
{
    public static IReadOnlyList<ConfigProblem> Validate(FailoverWatchOptions options, string baseDirectory)
    {
        var problems = new List<ConfigProblem>();
        void Problem(string key, string problem) => problems.Add(new ConfigProblem(key, problem));

        if (string.IsNullOrWhiteSpace(options.Cluster.Name))
        {
            Problem("cluster.name", "missing");
        }

        ValidateNodes(options.Cluster.Nodes, baseDirectory, Problem);
        ValidateMonitor(options.Monitor, Problem);
        DrillConfigValidator.Validate(options, Problem);
        ValidateHooks(options.Hooks, Problem);
        UpperBounds.Validate(options, Problem);
        ValidateHttp(options.Http, baseDirectory, Problem);
        HttpTlsConfigValidator.Validate(options.Http, options.Coordination is not null, baseDirectory, Problem);
        if (options.Backup is { } backup)
        {
            ValidateBackup(backup, baseDirectory, Problem);
        }

        if (options.Telemetry.OtlpEndpoint is { } endpoint && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
        {
            Problem("telemetry.otlp_endpoint", $"'{endpoint}' is not an absolute URL");
        }

        if (options.Coordination is { } coordination)
        {
            CoordinationConfigValidator.Validate(coordination, baseDirectory, Problem);
            CoordinationConfigValidator.ValidateAdvertise(options.Http, coordination, Problem);
        }

        ReplicationConfigValidator.Validate(options.Replication, options.Cluster.Nodes.Count, Problem);
        ResolvePaths(options, baseDirectory);
        return problems;
    }

    /// <summary>Settings that work but leave a failover unsafe: printed by check-config and logged at start, never refused.</summary>
    public static IReadOnlyList<ConfigProblem> Warnings(FailoverWatchOptions options) =>
        [.. FenceWarnings(options), .. CoordinationConfigValidator.Warnings(options)];

    private static IReadOnlyList<ConfigProblem> FenceWarnings(FailoverWatchOptions options) =>
        options.Monitor.AutoFailover
            ? [.. options.Cluster.Nodes
                .Select((node, i) => (node, i))
                .Where(n => string.IsNullOrWhiteSpace(n.node.FenceCommand))
                .Select(n => new ConfigProblem(
                    $"cluster.nodes[{n.i}].fence_command",
                    $"missing while monitor.auto_failover is on: after a failover nothing stops {n.node.Name} if it comes back writable (two primaries until someone does)"))]
            : [];

    private static void ValidateNodes(List<NodeOptions> nodes, string baseDirectory, Action<string, string> problem)
    {
        if (nodes.Count < 2)
        {
            problem("cluster.nodes", $"needs at least two nodes, found {nodes.Count}");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            var key = $"cluster.nodes[{i}]";
            if (string.IsNullOrWhiteSpace(node.Name))
            {
                problem($"{key}.name", "missing");
            }
            else if (!seen.Add(node.Name))
            {
                problem($"{key}.name", $"duplicate node name '{node.Name}'");
            }

            if (string.IsNullOrWhiteSpace(node.Host))
            {
                problem($"{key}.host", "missing");
            }

            if (node.Port is < 1 or > 65535)
            {
                problem($"{key}.port", $"{node.Port} is out of range 1-65535");
            }

            CheckReadable(node.PasswordFile, $"{key}.password_file", baseDirectory, problem);
            RejoinConfigValidator.ValidateCommand(node.RejoinCommand, $"{key}.rejoin_command", problem);
        }
    }

    private static void ValidateMonitor(MonitorOptions monitor, Action<string, string> problem)
    {
        if (monitor.ProbeInterval <= TimeSpan.Zero)
        {
            problem("monitor.probe_interval", "must be above zero");
        }

        if (monitor.ProbeTimeout <= TimeSpan.Zero)
        {
            problem("monitor.probe_timeout", "must be above zero");
        }

        if (monitor.FailureThreshold < 1)
        {
            problem("monitor.failure_threshold", $"{monitor.FailureThreshold} must be 1 or more");
        }

        if (monitor.MaxLagOnFailover.Bytes < 0)
        {
            problem("monitor.max_lag_on_failover", "must not be negative");
        }

        if (monitor.ReadinessInterval <= TimeSpan.Zero)
        {
            problem("monitor.readiness_interval", "must be above zero");
        }

        if (monitor.PromotionTimeout <= TimeSpan.Zero)
        {
            problem("monitor.promotion_timeout", "must be above zero");
        }

        RejoinConfigValidator.Validate(monitor, problem);

        if (string.IsNullOrWhiteSpace(monitor.StateFile))
        {
            problem("monitor.state_file", "missing");
        }
    }

    private static void ValidateHooks(HooksOptions hooks, Action<string, string> problem)
    {
        if (hooks.Timeout <= TimeSpan.Zero)
        {
            problem("hooks.timeout", "must be above zero");
        }
    }

    private static void ValidateHttp(HttpOptions http, string baseDirectory, Action<string, string> problem)
    {
        if (!IPEndPoint.TryParse(http.Listen, out var endpoint) || endpoint.Port is < 0 or > 65535 || !http.Listen.Contains(':', StringComparison.Ordinal))
        {
            problem("http.listen", $"'{http.Listen}' is not an address:port such as 127.0.0.1:9797");
        }

        CheckReadable(http.AdminTokenFile, "http.admin_token_file", baseDirectory, problem);
    }

    private static void ValidateBackup(BackupOptions backup, string baseDirectory, Action<string, string> problem)
    {
        if (string.IsNullOrWhiteSpace(backup.Destination))
        {
            problem("backup.destination", "missing");
        }

        CheckCron(backup.Schedule, "backup.schedule", problem);
        CheckCron(backup.RestoreTestSchedule, "backup.restore_test_schedule", problem);
        if (backup.RestoreTestSchedule is not null && backup.Postgres is not { Enabled: true })
        {
            problem("backup.restore_test_schedule", "needs backup.postgres: the restore test restores the dump");
        }

        if (backup.Retention.KeepLast < 1)
        {
            problem("backup.retention.keep_last", "must be 1 or more: the newest backup is always kept");
        }

        if (backup.Retention.KeepDaily < 0)
        {
            problem("backup.retention.keep_daily", "must not be negative");
        }

        if (backup.Retention.KeepWeekly < 0)
        {
            problem("backup.retention.keep_weekly", "must not be negative");
        }

        if (backup.Postgres is { } postgres)
        {
            if (postgres.From is not ("standby" or "primary"))
            {
                problem("backup.postgres.from", $"'{postgres.From}' must be standby or primary");
            }

            CheckReadable(postgres.PasswordFile, "backup.postgres.password_file", baseDirectory, problem);
            if (postgres.Compression is not ("zstd" or "gzip" or "none"))
            {
                problem("backup.postgres.compression", $"'{postgres.Compression}' must be zstd, gzip or none");
            }

            if (postgres.CompressionLevel is < 0 or > 19)
            {
                problem("backup.postgres.compression_level", $"{postgres.CompressionLevel} is out of range 0-19");
            }

            if (postgres.MaxStandbyDelay <= TimeSpan.Zero)
            {
                problem("backup.postgres.max_standby_delay", "must be above zero");
            }

            if (postgres.Timeout <= TimeSpan.Zero)
            {
                problem("backup.postgres.timeout", "must be above zero");
            }

            if (postgres.PgDumpall is { } pgDumpall && !File.Exists(Path.Combine(baseDirectory, pgDumpall)))
            {
                problem("backup.postgres.pg_dumpall", $"{pgDumpall} does not exist");
            }
        }

        // Secrets that cannot be read are check-config warnings (Backup/BackupSourceWarnings): a backup problem never stops run.

        if (backup.Redis is { } redisOptions)
        {
            if (redisOptions.SaveTimeout <= TimeSpan.Zero)
            {
                problem("backup.redis.save_timeout", "must be above zero");
            }

            CheckReadable(redisOptions.PasswordFile, "backup.redis.password_file", baseDirectory, problem);
        }

        if (backup.Offsite is { } offsite)
        {
            ValidateOffsite(offsite, baseDirectory, problem);
        }

        if (backup.Redis is { Port: < 1 or > 65535 } redis)
        {
            problem("backup.redis.port", $"{redis.Port} is out of range 1-65535");
        }
    }

    private static void ValidateOffsite(OffsiteOptions offsite, string baseDirectory, Action<string, string> problem)
    {
        if (string.IsNullOrWhiteSpace(offsite.Path) == (offsite.Restic is null))
        {
            problem("backup.offsite", "needs exactly one of path (a mounted folder) or restic");
        }

        if (offsite.Restic is not { } restic)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(restic.Repository))
        {
            problem("backup.offsite.restic.repository", "missing");
        }

        if (string.IsNullOrWhiteSpace(restic.PasswordFile))
        {
            problem("backup.offsite.restic.password_file", "missing");
        }

        CheckReadable(string.IsNullOrWhiteSpace(restic.PasswordFile) ? null : restic.PasswordFile, "backup.offsite.restic.password_file", baseDirectory, problem);
        if (restic.EnvFile is { } envFile)
        {
            try
            {
                Backup.Offsite.EnvFile.Read(Path.Combine(baseDirectory, envFile));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                problem("backup.offsite.restic.env_file", e.Message);
            }
        }

        if (restic.Timeout <= TimeSpan.Zero)
        {
            problem("backup.offsite.restic.timeout", "must be above zero");
        }

        if (Backup.Offsite.ResticCommand.Program() is null)
        {
            problem("backup.offsite.restic", "the restic program is not on PATH (Debian: apt-get install restic)");
        }
    }

    internal static void CheckCron(string? expression, string key, Action<string, string> problem)
    {
        if (expression is null)
        {
            return;
        }

        try
        {
            CronExpression.Parse(expression);
        }
        catch (CronFormatException e)
        {
            problem(key, $"'{expression}' is not a cron expression: {e.Message}");
        }
    }

    private static void CheckReadable(string? path, string key, string baseDirectory, Action<string, string> problem)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            using var _ = File.OpenRead(Path.Combine(baseDirectory, path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem(key, $"cannot read {path}: {e.Message}");
        }
    }

    /// <summary>Relative paths are relative to the configuration file, whatever the working folder.</summary>
    private static void ResolvePaths(FailoverWatchOptions options, string baseDirectory)
    {
        string Full(string path) => Path.GetFullPath(path, baseDirectory);
        foreach (var node in options.Cluster.Nodes)
        {
            node.PasswordFile = node.PasswordFile is null ? null : Full(node.PasswordFile);
        }

        options.Monitor.StateFile = Full(options.Monitor.StateFile);
        options.Http.AdminTokenFile = options.Http.AdminTokenFile is null ? null : Full(options.Http.AdminTokenFile);
        HttpTlsConfigValidator.ResolvePaths(options.Http.Tls, Full);
        if (options.Coordination is { } coordination)
        {
            CoordinationConfigValidator.ResolvePaths(coordination.Etcd, Full);
        }

        if (options.Backup is { } backup)
        {
            backup.Destination = Full(backup.Destination);
            backup.Offsite?.Path = backup.Offsite.Path is null ? null : Full(backup.Offsite.Path);
            backup.Offsite?.Restic?.PasswordFile = Full(backup.Offsite.Restic.PasswordFile);
            backup.Offsite?.Restic?.EnvFile = backup.Offsite.Restic.EnvFile is null ? null : Full(backup.Offsite.Restic.EnvFile);
            backup.Postgres?.PasswordFile = backup.Postgres.PasswordFile is null ? null : Full(backup.Postgres.PasswordFile);
            backup.Postgres?.PgDumpall = backup.Postgres.PgDumpall is null ? null : Full(backup.Postgres.PgDumpall);
            backup.Secrets?.Paths = backup.Secrets.Paths.ConvertAll(Full);
            backup.Media?.Path = Full(backup.Media.Path);
            backup.Redis?.RdbPath = Full(backup.Redis.RdbPath);
            backup.Redis?.PasswordFile = backup.Redis.PasswordFile is null ? null : Full(backup.Redis.PasswordFile);
            backup.Certs?.Path = Full(backup.Certs.Path);
            backup.RestoreTestSocket = Full(backup.RestoreTestSocket);
        }
    }
}
