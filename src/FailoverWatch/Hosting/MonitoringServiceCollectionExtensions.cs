using FailoverWatch.Failover;
using FailoverWatch.Incidents;
using FailoverWatch.Monitoring;
using FailoverWatch.Readiness;
using FailoverWatch.Rejoin;
using FailoverWatch.Replication;
using Microsoft.Extensions.DependencyInjection;

namespace FailoverWatch.Hosting;

internal static class MonitoringServiceCollectionExtensions
{
    /// <summary>The monitor loop and everything it drives: probes, view, metrics, change logs, failover.</summary>
    public static IServiceCollection AddMonitoring(this IServiceCollection services)
    {
        services.AddSingleton<ClusterProber>();
        services.AddSingleton<LatestClusterView>();
        services.AddSingleton<ClusterMetricsPublisher>();
        services.AddSingleton<NodeChangeLogger>();
        services.AddSingleton<MonitorHeartbeat>();
        services.AddSingleton<NodePromoter>();
        services.AddSingleton<ClusterCommandRunner>();
        services.AddSingleton<IncidentRecorder>();
        services.AddSingleton<SyncStandbyManager>();
        services.AddSingleton<FailoverCoordinator>();
        services.AddSingleton<SwitchoverService>();
        services.AddSingleton<RejoinService>();
        services.AddHostedService(sp => sp.GetRequiredService<RejoinService>());
        services.AddSingleton<IRejoinRequests>(sp => sp.GetRequiredService<RejoinService>());
        services.AddHostedService<ClusterMonitor>();
        services.AddSingleton<FailoverReadiness>();
        services.AddSingleton<ReadinessMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<ReadinessMonitor>());
        return services;
    }
}
