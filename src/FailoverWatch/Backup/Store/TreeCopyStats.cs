namespace FailoverWatch.Backup.Store;

/// <summary>What a tree copy did: files copied (and their bytes), files hard-linked to the previous backup, links and folders made.</summary>
internal sealed class TreeCopyStats
{
    public int FilesCopied { get; set; }
    public long BytesCopied { get; set; }
    public int FilesLinked { get; set; }
    public int Symlinks { get; set; }
    public int Directories { get; set; }
    public List<string> Skipped { get; } = [];

    public int Files => FilesCopied + FilesLinked;
}
