namespace FailoverWatch.LocalServers;

/// <summary>Finds the machine's PostgreSQL server programs: <c>FW_PG_BIN</c>, else the newest <c>/usr/lib/postgresql/N/bin</c>, else PATH.</summary>
internal sealed class PostgresBinaries
{
    private PostgresBinaries(string binDirectory) => BinDirectory = binDirectory;

    public string BinDirectory { get; }

    public string Tool(string name) => Path.Combine(BinDirectory, name);

    public static PostgresBinaries Find()
    {
        if (Environment.GetEnvironmentVariable("FW_PG_BIN") is { Length: > 0 } configured)
        {
            return new PostgresBinaries(configured);
        }

        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.GetDirectories(debianRoot)
                .Select(d => (Dir: d, Version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1))
                .Where(d => d.Version > 0 && File.Exists(Path.Combine(d.Dir, "bin", "initdb")))
                .OrderByDescending(d => d.Version)
                .FirstOrDefault();
            if (newest.Dir is not null)
            {
                return new PostgresBinaries(Path.Combine(newest.Dir, "bin"));
            }
        }

        var fromPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")));
        return fromPath is not null
            ? new PostgresBinaries(fromPath)
            : throw new InvalidOperationException("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql or set FW_PG_BIN");
    }
}
