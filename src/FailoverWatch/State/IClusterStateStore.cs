namespace FailoverWatch.State;

/// <summary>
/// Where the cluster state lives: the state file with one monitor, etcd with several. Updates are serialised;
/// one that cannot be stored throws an <see cref="IOException"/> and changes nothing.
/// </summary>
internal interface IClusterStateStore
{
    FailoverState Current { get; }

    Task<FailoverState> UpdateAsync(Func<FailoverState, FailoverState> change, CancellationToken cancellationToken);
}
