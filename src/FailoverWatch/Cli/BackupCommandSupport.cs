using System.CommandLine;
using FailoverWatch.Backup;
using FailoverWatch.Configuration;
using FailoverWatch.Logging;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>The named backup, or the newest; null (with a message) when there is none.</summary>
    public static string? ResolveId(BackupStore store, string? id)
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
