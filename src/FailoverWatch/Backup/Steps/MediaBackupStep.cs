namespace FailoverWatch.Backup.Steps;

/// <summary>
/// Media: the <c>public/system</c> tree, unless the <c>.env.production</c> among the secrets puts media in object
/// storage; then the kind succeeds with nothing copied, and the manifest says where the media is.
/// </summary>
internal sealed class MediaBackupStep(string path, string? envFile) : IBackupStep
{
    private readonly TreeBackupStep _tree = new(BackupKinds.Media, path);

    public string Kind => BackupKinds.Media;

    public Task<StepOutcome> RunAsync(BackupStepContext context, CancellationToken cancellationToken) =>
        envFile is not null && MastodonObjectStorage.Describe(envFile) is { } where
            ? Task.FromResult(new StepOutcome([], 0, 0) { MediaInObjectStorage = where, Note = $"{Kind}: {where}, nothing copied" })
            : _tree.RunAsync(context, cancellationToken);
}
