using FailoverWatch.Configuration;
using FailoverWatch.State;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Coordination;

internal static class CoordinationServiceCollectionExtensions
{
    /// <summary>
    /// Where the state lives and who decides: without <c>coordination</c>, the state file and this monitor alone;
    /// with it, etcd, the group's leader, and the loop that keeps this monitor in the group.
    /// </summary>
    public static IServiceCollection AddCoordination(this IServiceCollection services, FailoverWatchOptions options)
    {
        if (options.Coordination is not { } coordination)
        {
            services.AddSingleton<IClusterStateStore>(new FailoverStateStore(options.Monitor.StateFile));
            services.AddSingleton<IMonitorLeadership, SoleMonitor>();
            return services;
        }

        services.AddSingleton(sp => new EtcdGateway(coordination.Etcd, sp.GetRequiredService<TimeProvider>(), logger: sp.GetRequiredService<ILogger<EtcdGateway>>()));
        services.AddSingleton<IEtcdGateway>(sp => sp.GetRequiredService<EtcdGateway>());
        services.AddSingleton(EtcdKeys.For(coordination.Etcd.Prefix, options.Cluster.Name));
        services.AddSingleton<LeaderFence>();
        services.AddSingleton<EtcdStateStore>();
        services.AddSingleton<IClusterStateStore>(sp => sp.GetRequiredService<EtcdStateStore>());
        services.AddSingleton<ClusterCoordination>();
        services.AddSingleton<IMonitorLeadership>(sp => sp.GetRequiredService<ClusterCoordination>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ClusterCoordination>());
        return services;
    }

    /// <summary>Without coordination this monitor is always the leader, of a group of one, with nothing to lose quorum.</summary>
    public static void PublishSoleMonitor(FailoverWatchMetrics metrics, FailoverWatchOptions options)
    {
        if (options.Coordination is null)
        {
            metrics.IsLeader.Set(1, options.Cluster.Name);
            metrics.CoordinationUp.Set(1, options.Cluster.Name);
            metrics.Monitors.Set(1, options.Cluster.Name);
        }
    }
}
