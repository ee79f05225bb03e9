namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// The whole observability chain, real end to end: a PostgreSQL pair, the FailoverWatch host monitoring it,
/// and a Prometheus scraping the host every second with the project's alert rules loaded.
/// </summary>
public sealed class ObservedPair : IAsyncLifetime
{
    public const string Cluster = "test";

    private TempDirectory? _directory;
    private bool _disposed;

    public PostgresPair Pair { get; private set; } = null!;

    public RunningHost Host { get; private set; } = null!;

    public PrometheusServer Prometheus { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        try
        {
            _directory = new TempDirectory();
            Pair = await PostgresPair.StartAsync();
            var options = RunningHost.OptionsFor(Pair, _directory.Path);
            options.Cluster.Name = Cluster;
            // The rejoin series exist only for nodes with a rejoin_command; it never runs here (pg1 stays primary).
            options.Cluster.Nodes[0].RejoinCommand = "false";
            Host = await RunningHost.StartAsync(options, _directory.Path);
            Prometheus = await PrometheusServer.StartAsync(Host.Target, RepositoryFiles.Path("grafana", "alerts.yml"));
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        // Called by InitializeAsync when it fails, and by xunit: tear down once.
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Each piece is torn down even if the one before failed to.
        try
        {
            if (Prometheus is not null)
            {
                await Prometheus.DisposeAsync();
            }
        }
        finally
        {
            try
            {
                if (Host is not null)
                {
                    await Host.DisposeAsync();
                }
            }
            finally
            {
                try
                {
                    if (Pair is not null)
                    {
                        await Pair.DisposeAsync();
                    }
                }
                finally
                {
                    _directory?.Dispose();
                }
            }
        }
    }
}
