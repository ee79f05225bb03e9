namespace FailoverWatch.Backup.Steps;

/// <summary>One kind of backup (postgres, secrets, media, redis, certs). Writes only under <see cref="BackupStepContext.KindDirectory"/>; throws to fail.</summary>
internal interface IBackupStep
{
    string Kind { get; }

    Task<StepOutcome> RunAsync(BackupStepContext context, CancellationToken cancellationToken);
}
