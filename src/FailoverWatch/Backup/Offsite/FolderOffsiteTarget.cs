using FailoverWatch.Backup.Store;
using FailoverWatch.Configuration;

namespace FailoverWatch.Backup.Offsite;

/// <summary><c>offsite.path</c>: a mounted folder laid out like the destination, filled by <see cref="OffsiteCopier"/>.</summary>
internal sealed class FolderOffsiteTarget(string root) : IOffsiteTarget
{
    private readonly BackupStore _store = new(root);

    public string Name => root;

    // A killed copy leaves a .tmp- folder there, which the next copy replaces: nothing to clear first.
    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IReadOnlyList<RetentionPolicy.Candidate>> ListAsync(CancellationToken cancellationToken) => _store.RetentionCandidatesAsync(cancellationToken);

    public Task SendAsync(string directory, BackupManifest manifest, CancellationToken cancellationToken) =>
        OffsiteCopier.CopyAsync(directory, manifest, root, cancellationToken);

    public Task<(List<string> Removed, List<(string Id, string Cause)> Failed)> ApplyRetentionAsync(RetentionOptions retention, CancellationToken cancellationToken) =>
        _store.ApplyRetentionAsync(retention, cancellationToken);
}
