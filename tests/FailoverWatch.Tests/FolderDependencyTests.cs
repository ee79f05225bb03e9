using System.Text.RegularExpressions;
using FailoverWatch.Tests.Configuration;

namespace FailoverWatch.Tests;

/// <summary>
/// Data flows one way between the product's folders (shared/DESIGN.md): a folder's <c>using FailoverWatch.X</c>
/// lines are its arrows, and no arrow may lead back to where it started.
/// </summary>
public sealed partial class FolderDependencyTests
{
    private static readonly string Source = Path.Combine(ConfigValidationTests.RepositoryRoot(), "src", "FailoverWatch");

    [Fact]
    public void no_folder_depends_on_itself_through_others()
    {
        var arrows = Arrows();
        foreach (var (from, targets) in arrows)
        {
            foreach (var to in targets)
            {
                Assert.False(Reaches(arrows, to, from), $"{from} imports {to}, and {to} leads back to {from}");
            }
        }
    }

    [Theory]
    [InlineData("State", new[] { "Configuration", "Monitoring", "Storage" })]
    [InlineData("Monitoring", new[] { "Configuration", "Logging", "Telemetry" })]
    [InlineData("Coordination", new[] { "Configuration", "State", "Telemetry" })]
    public void lower_folders_import_only_below_them(string folder, string[] allowed)
    {
        Assert.Subset(allowed.ToHashSet(), Arrows().GetValueOrDefault(folder, []));
    }

    [Fact]
    public void backups_never_import_the_command_line()
    {
        Assert.DoesNotContain("Cli", Arrows()["Backup"]);
    }

    /// <summary>Each folder's arrows: its <c>using</c> lines, and types it names with their folder's namespace (<c>Rejoin.PendingRejoin</c>).</summary>
    private static Dictionary<string, HashSet<string>> Arrows()
    {
        var files = Directory.EnumerateFiles(Source, "*.cs", SearchOption.AllDirectories)
            .Select(file => (Folder: Path.GetRelativePath(Source, file).Split(Path.DirectorySeparatorChar), Text: File.ReadAllText(file)))
            .Where(f => f.Folder.Length >= 2 && f.Folder[0] is not ("bin" or "obj"))
            .Select(f => (Folder: f.Folder[0], f.Text))
            .ToList();
        var declared = files
            .SelectMany(f => Declaration().Matches(f.Text).Select(m => (f.Folder, Type: m.Groups[1].Value)))
            .ToLookup(d => d.Folder, d => d.Type);
        var arrows = new Dictionary<string, HashSet<string>>();
        foreach (var (folder, text) in files)
        {
            var targets = arrows.TryGetValue(folder, out var known) ? known : arrows[folder] = [];
            targets.UnionWith(UsingLine().Matches(text).Select(m => m.Groups[1].Value));
            var code = string.Join('\n', text.Split('\n').Where(line => !line.TrimStart().StartsWith("//", StringComparison.Ordinal)));
            targets.UnionWith(QualifiedName().Matches(code)
                .Where(m => declared[m.Groups[1].Value].Contains(m.Groups[2].Value))
                .Select(m => m.Groups[1].Value));
            targets.Remove(folder);
        }

        return arrows;
    }

    private static bool Reaches(Dictionary<string, HashSet<string>> arrows, string from, string target)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>([from]);
        while (pending.TryPop(out var folder))
        {
            foreach (var next in arrows.GetValueOrDefault(folder, []))
            {
                if (next == target)
                {
                    return true;
                }

                if (seen.Add(next))
                {
                    pending.Push(next);
                }
            }
        }

        return false;
    }

    [GeneratedRegex(@"^using FailoverWatch\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex UsingLine();

    [GeneratedRegex(@"^internal\s+(?:(?:sealed|static|abstract|partial|readonly)\s+)*(?:record|class|interface|enum|struct)\s+(\w+)", RegexOptions.Multiline)]
    private static partial Regex Declaration();

    [GeneratedRegex(@"(?<![\w.])(?:FailoverWatch\.)?([A-Z]\w*)\.([A-Z]\w*)\b")]
    private static partial Regex QualifiedName();
}
