using System.Globalization;
using System.Text;

namespace FailoverWatch.Backup.Scheduling;

/// <summary>
/// What a kind's sources look like, cheaply: each path with its type, size, mtime and link target (certbot's renewal
/// writes new files under <c>archive/</c> and repoints <c>live/</c>; both show). Read without opening any file, so a
/// file the host cannot read still has a fingerprint, and the backup, not the watcher, reports it.
/// </summary>
internal static class SourceFingerprint
{
    public static string OfFiles(IEnumerable<string> paths)
    {
        var text = new StringBuilder();
        foreach (var path in paths)
        {
            Append(text, new FileInfo(path));
        }

        return text.ToString();
    }

    public static string OfTree(string root)
    {
        var text = new StringBuilder();
        var directory = new DirectoryInfo(root);
        if (!directory.Exists)
        {
            return "";
        }

        Append(text, directory);
        try
        {
            foreach (var item in directory.EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 })
                .OrderBy(i => i.FullName, StringComparer.Ordinal))
            {
                Append(text, item);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A tree changing under the walk: the next look sees it settled.
            text.Append(e.Message);
        }

        return text.ToString();
    }

    private static void Append(StringBuilder text, FileSystemInfo item)
    {
        var length = item is FileInfo { Exists: true } file && item.LinkTarget is null ? file.Length : 0;
        text.Append(CultureInfo.InvariantCulture, $"{item.FullName}\0{item.Exists}\0{item.LinkTarget}\0{length}\0{(item.Exists ? item.LastWriteTimeUtc.Ticks : 0)}\0{(item.Exists ? (int)item.UnixFileMode : 0)}\n");
    }
}
