namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>Files of the repository the tests run from (the dashboard, the alert rules), found by walking up to the solution.</summary>
public static class RepositoryFiles
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string RootPath => Root.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root.Value, .. parts]);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "FailoverWatch.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no FailoverWatch.sln above {AppContext.BaseDirectory}");
    }
}
