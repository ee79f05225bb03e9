using FailoverWatch.Configuration;

namespace FailoverWatch.Backup.Steps;

/// <summary>The steps the configuration asks for, in the order of <see cref="BackupKinds.All"/>; a kind left out of <c>backup</c> is not taken.</summary>
internal static class BackupSteps
{
    public static IReadOnlyList<IBackupStep> From(FailoverWatchOptions options, TimeProvider timeProvider)
    {
        var backup = options.Backup ?? throw new InvalidOperationException("the configuration has no backup section");
        var steps = new List<IBackupStep>();
        if (backup.Postgres is { Enabled: true } postgres)
        {
            // restic deduplicates a compressed dump from day to day only when it is rsyncable.
            steps.Add(new PostgresBackupStep(postgres, options.Cluster.Nodes, rsyncable: backup.Offsite?.Restic is not null));
        }

        if (backup.Secrets is { } secrets)
        {
            steps.Add(new SecretsBackupStep(secrets));
        }

        if (backup.Media is { } media)
        {
            steps.Add(new MediaBackupStep(media.Path, MastodonObjectStorage.EnvFileAmong(backup.Secrets?.Paths)));
        }

        if (backup.Redis is { } redis)
        {
            steps.Add(new RedisBackupStep(redis, timeProvider));
        }

        if (backup.Certs is { } certs)
        {
            steps.Add(new TreeBackupStep(BackupKinds.Certs, certs.Path));
        }

        return steps;
    }
}
