using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Drill;

internal static class DrillServiceCollectionExtensions
{
    /// <summary>The host's drill (<c>POST /drill</c>) and, with <c>monitor.drill_schedule</c>, its schedule.</summary>
    public static IServiceCollection AddDrill(this IServiceCollection services, FailoverWatchOptions options)
    {
        services.AddSingleton<IClusterControl, ClusterControl>();
        services.AddSingleton<DrillService>();
        if (options.Monitor.DrillSchedule is { Length: > 0 } schedule)
        {
            services.AddSingleton<IHostedService>(sp => new DrillScheduler(
                schedule, sp.GetRequiredService<DrillService>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<DrillScheduler>>(), sp.GetRequiredService<IMonitorLeadership>()));
        }

        return services;
    }
}
