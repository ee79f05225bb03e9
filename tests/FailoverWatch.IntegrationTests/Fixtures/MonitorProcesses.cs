using FailoverWatch.LocalServers;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// The running monitors of a <see cref="MonitorGroupConfig"/>, by index: started from their configuration files,
/// killed with what they printed kept, resumed (one may be SIGSTOPped) and stopped on dispose. The tests' monitor
/// group and the soak's three-monitor cluster share it.
/// </summary>
internal sealed class MonitorProcesses(MonitorGroupConfig config, string? caFile = null) : IAsyncDisposable
{
    private readonly MonitorProcess?[] _monitors = new MonitorProcess?[config.Count];
    private readonly List<string>[] _earlierOutput = [.. Enumerable.Range(0, config.Count).Select(_ => new List<string>())];

    /// <summary>Monitor <paramref name="index"/>; null while it is killed.</summary>
    public MonitorProcess? this[int index] => _monitors[index];

    public bool IsRunning(int index) => _monitors[index] is { HasExited: false };

    public IEnumerable<MonitorProcess> Running() => _monitors.OfType<MonitorProcess>().Where(m => !m.HasExited);

    /// <summary>Writes every monitor's configuration and starts them all; returns once every <c>/healthz</c> answers.</summary>
    public async Task StartAllAsync(CancellationToken cancellationToken)
    {
        await config.WriteAsync(cancellationToken);
        await Task.WhenAll(Enumerable.Range(0, config.Count).Select(StartAsync));
    }

    public async Task StartAsync(int index) => _monitors[index] = await MonitorProcess.StartAsync(config.ConfigPath(index), config.HttpPort(index), caFile);

    /// <summary>kill -9 of a monitor; what it printed is kept.</summary>
    public async Task KillAsync(int index)
    {
        if (_monitors[index] is { } monitor)
        {
            await monitor.KillAsync();
            _earlierOutput[index].Add(monitor.Output);
            await monitor.DisposeAsync();
            _monitors[index] = null;
        }
    }

    public Task SignalAsync(int index, string signal) => _monitors[index]?.SignalAsync(signal) ?? Task.CompletedTask;

    /// <summary>Everything every process of monitor <paramref name="index"/> printed, the killed ones first.</summary>
    public string Output(int index) => string.Join("--- monitor restarted ---\n", [.. _earlierOutput[index], _monitors[index]?.Output ?? ""]);

    public async ValueTask DisposeAsync()
    {
        foreach (var monitor in _monitors.OfType<MonitorProcess>())
        {
            if (!monitor.HasExited)
            {
                await monitor.SignalAsync("CONT");
            }

            await monitor.DisposeAsync();
        }
    }
}
