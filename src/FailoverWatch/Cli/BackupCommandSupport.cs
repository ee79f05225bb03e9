using System.CommandLine;
using FailoverWatch.Backup;
using FailoverWatch.Configuration;
using FailoverWatch.Logging;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.Cli;

/// <summary>What the backup commands share: the backup section (or a clear error), a runner outside the host, the store.</summary>
internal static class BackupCommandSupport
{
    public static BackupOptions? BackupSection(FailoverWatchOptions options)
    {
        if (options.Backup is null)
        {
            Console.Error.WriteLine("backup: the configuration has no backup section");
        }

        return options.Backup;
    }

    /// <summary>A runner wired like the host's, with console logging; the caller disposes the provider.</summary>
    public static (BackupRunner Runner, ServiceProvider Provider) CreateRunner(FailoverWatchOptions options)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddFailoverWatchConsole());
        services.AddMetrics();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<FailoverWatchMetrics>();
        services.AddBackups(options);
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<BackupRunner>(), provider);
    }

    public static Option<string> BackupIdOption(bool required) => new("--backup")
    {
        Description = "The backup id (folder name, e.g. 20261124T030000Z); default: the newest",
        Required = required,
    };

    /// <summary>
    /// The prelude of the commands that read one backup: the config, its backup section, the named backup or the newest,
    /// and its manifest. On a problem, a message on stderr and the exit code to return instead.
    /// </summary>
    public static async Task<(SelectedBackup? Backup, int ExitCode)> SelectAsync(ParseResult parseResult, Option<string> config, Option<string> backupId, CancellationToken cancellationToken)
    {
        if (ConfigFileOption.Load(parseResult, config) is not { } options || BackupSection(options) is not { } backup)
        {
            return (null, ConfigFileOption.InvalidConfigExitCode);
        }

        var store = new BackupStore(backup.Destination);
        if (ResolveId(store, parseResult.GetValue(backupId)) is not { } id)
        {
            return (null, 1);
        }

        try
        {
            return (new SelectedBackup(store, id, await store.ReadManifestAsync(id, cancellationToken), backup), 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidDataException)
        {
            Console.Error.WriteLine($"{id}: cannot read {BackupManifest.FileName}: {e.Message}");
            return (null, 1);
        }
    }

    /// <summary>The named backup, or the newest; null (with a message) when there is none.</summary>
    private static string? ResolveId(BackupStore store, string? id)
    {
        var ids = store.CompleteIds();
        if (id is null)
        {
            if (ids.Count == 0)
            {
                Console.Error.WriteLine($"no complete backup in {store.Destination}");
                return null;
            }

            return ids[^1];
        }

        if (!ids.Contains(id))
        {
            Console.Error.WriteLine($"no complete backup named {id} in {store.Destination}");
            return null;
        }

        return id;
    }
}

/// <summary>One complete backup chosen on the command line.</summary>
internal sealed record SelectedBackup(BackupStore Store, string Id, BackupManifest Manifest, BackupOptions Options)
{
    public string FolderPath => Store.PathOf(Id);
}
