using System.Globalization;
using System.Text.Json.Serialization;
using FailoverWatch.Storage;

namespace FailoverWatch.Backup.Store;

/// <summary>
/// One thing in a backup, by its path relative to the backup folder (<c>media/a/b.jpg</c>).
/// Mode is octal text (<c>0644</c>) so a person reading the manifest sees what <c>ls -l</c> shows.
/// </summary>
internal sealed record ManifestEntry
{
    public const string FileType = "file";
    public const string DirectoryType = "dir";
    public const string SymlinkType = "symlink";

    public required string Path { get; init; }
    public required string Type { get; init; }
    public long Size { get; init; }
    public string Mode { get; init; } = "0644";
    public DateTime Mtime { get; init; }
    public string? Sha256 { get; init; }
    public string? LinkTarget { get; init; }

    /// <summary>The source's owner, given back on restore when restoring as root; absent in manifests written before it was recorded.</summary>
    public uint? Uid { get; init; }

    public uint? Gid { get; init; }

    [JsonIgnore]
    public FileOwner? Owner => Uid is { } uid && Gid is { } gid ? new FileOwner(uid, gid) : null;

    [JsonIgnore]
    public UnixFileMode UnixMode => (UnixFileMode)Convert.ToInt32(Mode, 8);

    /// <summary>This entry with the owner of <paramref name="source"/> (a link's own owner, not its target's).</summary>
    public ManifestEntry OwnedAs(string source)
    {
        var owner = FileOwner.Of(source);
        return this with { Uid = owner.Uid, Gid = owner.Gid };
    }

    public static string FormatMode(UnixFileMode mode) => Convert.ToString((int)mode & 0xFFF, 8).PadLeft(4, '0');

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Type} {Path} {Size} {Mode}");
}
