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

    private static Dictionary<string, HashSet<string>> Arrows()
    {
        var arrows = new Dictionary<string, HashSet<string>>();
        foreach (var file in Directory.EnumerateFiles(Source, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Source, file).Split(Path.DirectorySeparatorChar);
            if (relative.Length < 2 || relative[0] is "bin" or "obj")
            {
                continue;
            }

            var targets = arrows.TryGetValue(relative[0], out var known) ? known : arrows[relative[0]] = [];
            foreach (Match match in UsingLine().Matches(File.ReadAllText(file)))
            {
                if (match.Groups[1].Value != relative[0])
                {
                    targets.Add(match.Groups[1].Value);
                }
            }
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
}
