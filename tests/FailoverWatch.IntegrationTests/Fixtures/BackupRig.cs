using System.Diagnostics.Metrics;
using System.Globalization;
using FailoverWatch.Backup;
using FailoverWatch.Configuration;
using FailoverWatch.Processes;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using FailoverWatch.Backup.Steps;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>Configuration and a runner for backup tests: YAML through the real loader, sources and destination in temp folders.</summary>
internal static class BackupRig
{
    public static FailoverWatchOptions Load(string yaml, string baseDirectory)
    {
        var (options, problems) = ConfigLoader.Parse(yaml, baseDirectory);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        return options!;
    }

    public static string Nodes(PostgresPair? pair) => pair is null
        ? """
          cluster:
            name: test
            nodes:
              - { name: pg1, host: 127.0.0.1, port: 1, user: postgres }
              - { name: pg2, host: 127.0.0.1, port: 2, user: postgres }
          """
        : string.Create(CultureInfo.InvariantCulture, $"""
          cluster:
            name: test
            nodes:
              - {"{"} name: pg1, host: 127.0.0.1, port: {pair.Primary.Port}, user: postgres {"}"}
              - {"{"} name: pg2, host: 127.0.0.1, port: {pair.Standby.Port}, user: postgres {"}"}
          """);

    /// <param name="host">The host its off-site snapshots carry; the machine's name when not given.</param>
    public static (BackupRunner Runner, FailoverWatchMetrics Metrics) Runner(FailoverWatchOptions options, TimeProvider? time = null, string? host = null)
    {
        var meterFactory = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var metrics = new FailoverWatchMetrics(meterFactory);
        var clock = time ?? TimeProvider.System;
        var runner = new BackupRunner(options.Backup!, BackupSteps.From(options, clock), metrics, new BackupStatusBoard(), clock, NullLogger.Instance, host);
        return (runner, metrics);
    }

    public static async Task PgbenchAsync(int port, string database, int scale)
    {
        var bin = LocalServers.PostgresBinaries.Find();
        if (database != "postgres")
        {
            await Run(bin.Tool("createdb"), ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", database]);
        }

        await Run(bin.Tool("pgbench"), ["-i", "-q", "-s", scale.ToString(CultureInfo.InvariantCulture), "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", database]);
    }

    public static async Task<ProcessResult> Run(string program, string[] arguments)
    {
        var result = await ExternalProcess.RunAsync(program, arguments, TimeSpan.FromMinutes(2), CancellationToken.None);
        Assert.True(result.Succeeded, $"{program} {string.Join(' ', arguments)}: {result.Describe()}\n{result.StandardError}");
        return result;
    }

    /// <summary>Waits until the standby has replayed everything the primary wrote.</summary>
    public static Task CaughtUpAsync(PostgresPair pair) =>
        Wait.UntilAsync(
            async () => await pair.Primary.QueryScalarAsync<bool>(
                "SELECT coalesce(bool_and(replay_lsn = pg_current_wal_lsn()), false) FROM pg_stat_replication", CancellationToken.None),
            TimeSpan.FromSeconds(60), "standby caught up");

    public static void WriteFile(string path, string content, UnixFileMode mode, DateTime? mtime = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        if (mtime is { } t)
        {
            File.SetLastWriteTimeUtc(path, t);
        }
    }

    public static long Inode(string path) => long.Parse(
        ExternalProcess.RunAsync("stat", ["-c", "%i", path], TimeSpan.FromSeconds(10), CancellationToken.None).GetAwaiter().GetResult().StandardOutput.Trim(),
        CultureInfo.InvariantCulture);
}
