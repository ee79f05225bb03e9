namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>The tests' shorthand; kept apart so that the soak can link <c>MonitorProcess.cs</c> without <see cref="TestCluster"/>.</summary>
public sealed partial class MonitorProcess
{
    public static Task<MonitorProcess> StartAsync(TestCluster cluster) => StartAsync(cluster.ConfigPath, cluster.HttpPort);
}
