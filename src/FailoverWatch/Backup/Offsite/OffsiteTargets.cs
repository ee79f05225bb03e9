using FailoverWatch.Configuration;

namespace FailoverWatch.Backup.Offsite;

internal static class OffsiteTargets
{
    /// <summary>The configured target, or null without <c>backup.offsite</c>.</summary>
    public static IOffsiteTarget? From(OffsiteOptions? offsite) => offsite switch
    {
        { Restic: { } restic } => new ResticOffsiteTarget(new ResticCommand(restic)),
        { Path: { } path } => new FolderOffsiteTarget(path),
        _ => null,
    };
}
