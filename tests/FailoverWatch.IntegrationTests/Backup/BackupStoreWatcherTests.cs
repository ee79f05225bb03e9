using System.Globalization;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Storage;
using FailoverWatch.Backup.Scheduling;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.IntegrationTests.Backup;

/// <summary>The host's backup gauges and /status know of backups it did not take itself.</summary>
public sealed class BackupStoreWatcherTests
{
    [Fact]
    public async Task a_started_host_reports_earlier_backups_and_picks_up_those_taken_from_the_command_line()
    {
        using var dir = new TempDirectory();
        BackupRig.WriteFile(dir.File(".env.production"), "KEY=1", DurableFiles.OwnerOnly);
        BackupRig.WriteFile(dir.File("system/a.png"), "a", (UnixFileMode)Convert.ToInt32("644", 8));
        var config = dir.File("failoverwatch.yaml");
        await File.WriteAllTextAsync(config, BackupRig.Nodes(null) + $$"""

            monitor: { state_file: {{dir.File("state.json")}} }
            backup:
              destination: {{dir.File("dest")}}
              secrets: { paths: [{{dir.File(".env.production")}}] }
              media: { path: {{dir.File("system")}} }
            """);
        var (exit, output) = await MonitorProcess.RunCliAsync("backup", "--config", config);
        Assert.True(exit == 0, output);
        var store = new BackupStore(dir.File("dest"));
        var before = await store.ReadManifestAsync(Assert.Single(store.CompleteIds()), CancellationToken.None);

        await using var host = await RunningHost.StartAsync(BackupRig.Load(await File.ReadAllTextAsync(config), dir.Path), dir.Path);
        // The watcher sets the kinds' gauges one after the other: wait for both.
        await Wait.UntilAsync(
            async () => Same(await LastSuccessAsync(host, "secrets"), before.FinishedAt) && Same(await LastSuccessAsync(host, "media"), before.FinishedAt),
            TimeSpan.FromSeconds(20),
            "secrets and media backups from before the start reported");

        // A later run from the command line (cron), of one kind only: that kind moves, the other keeps its time.
        await Wait.UntilAsync(() => BackupStore.IdFor(DateTimeOffset.UtcNow) != before.Id, TimeSpan.FromSeconds(5), "a new backup id");
        (exit, output) = await MonitorProcess.RunCliAsync("backup", "--config", config, "--only", "secrets");
        Assert.True(exit == 0, output);
        var after = await store.ReadManifestAsync(store.CompleteIds()[^1], CancellationToken.None);
        await host.GetRequiredService<BackupStoreWatcher>().RefreshAsync(CancellationToken.None);
        Assert.True(Same(await LastSuccessAsync(host, "secrets"), after.FinishedAt));
        Assert.True(Same(await LastSuccessAsync(host, "media"), before.FinishedAt));
    }

    private static bool Same(double? scraped, DateTimeOffset at) => scraped is { } seconds && Math.Abs(seconds - (at.ToUnixTimeMilliseconds() / 1000.0)) < 0.001;

    private static async Task<double?> LastSuccessAsync(RunningHost host, string kind)
    {
        var prefix = $"failoverwatch_backup_last_success_timestamp_seconds{{kind=\"{kind}\"}} ";
        var line = (await host.ScrapeAsync()).Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[prefix.Length..], CultureInfo.InvariantCulture);
    }
}
