using FailoverWatch.Configuration;

namespace FailoverWatch.Backup.Offsite;

internal static class OffsiteTargets
{
    /// <summary>Dot file in the destination listing restic's partial snapshots that could not be forgotten.</summary>
    public const string PartialsFileName = ".offsite-partial";

    /// <summary>The configured target, or null without <c>backup.offsite</c>.</summary>
    /// <param name="host">The host the snapshots are tagged with (<see cref="BackupHost"/>).</param>
    public static IOffsiteTarget? From(OffsiteOptions? offsite, string destination, string host) => offsite switch
    {
        { Restic: { } restic } => new ResticOffsiteTarget(new ResticCommand(restic), host, Path.Combine(destination, PartialsFileName)),
        { Path: { } path } => new FolderOffsiteTarget(path),
        _ => null,
    };
}
