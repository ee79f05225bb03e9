using FailoverWatch.Configuration;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using FailoverWatch.Backup.Scheduling;
using FailoverWatch.Backup.Steps;

namespace FailoverWatch.Backup;

internal static class BackupServiceCollectionExtensions
{
    /// <summary>
    /// The backup runner, the watcher of the destination, and the cron schedulers of backups and restore tests when set.
    /// Nothing when there is no <c>backup</c> section.
    /// </summary>
    public static IServiceCollection AddBackups(this IServiceCollection services, FailoverWatchOptions options)
    {
        if (options.Backup is not { } backup)
        {
            return services;
        }

        services.TryAddSingleton<BackupStatusBoard>();
        services.AddSingleton(backup);
        services.AddSingleton(provider => new BackupRunner(
            backup,
            BackupSteps.From(options, provider.GetRequiredService<TimeProvider>()),
            provider.GetRequiredService<FailoverWatchMetrics>(),
            provider.GetRequiredService<BackupStatusBoard>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILoggerFactory>().CreateLogger<BackupRunner>(),
            BackupHost.Of(options)));
        services.AddSingleton<BackupStoreWatcher>();
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<BackupStoreWatcher>());
        if (backup.Schedule is not null)
        {
            services.AddSingleton<IHostedService, BackupScheduler>();
        }

        if (BackupChangeWatcher.Wanted(backup))
        {
            services.AddSingleton<BackupChangeWatcher>();
            services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<BackupChangeWatcher>());
        }

        if (backup.RestoreTestSchedule is not null)
        {
            services.AddSingleton<RestoreTestScheduler>();
            services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<RestoreTestScheduler>());
        }

        return services;
    }
}
