using System.Text.Json;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.State;
using Grpc.Core;

namespace FailoverWatch.Cli;

/// <summary>
/// The cluster's state as the CLI shows it: with coordination, etcd's (as the leader wrote it, whichever monitor's
/// configuration the CLI is given, so every monitor's answers the same), else this monitor's state file.
/// </summary>
internal static class SharedClusterState
{
    /// <summary>Reads through the configuration's etcd; null, said why on stderr, when etcd does not answer.</summary>
    public static async Task<T?> FromEtcdAsync<T>(FailoverWatchOptions options, CoordinationOptions coordination, Func<IEtcdGateway, EtcdKeys, Task<T>> read)
        where T : class
    {
        // A cold process's first call sets up the connection: a monitor's 1 s deadline (lease_ttl 3s) failed it under load.
        using var etcd = new EtcdGateway(coordination.Etcd, TimeProvider.System, callTimeout: TimeSpan.FromSeconds(10));
        try
        {
            return await read(etcd, EtcdKeys.For(coordination.Etcd.Prefix, options.Cluster.Name));
        }
        catch (RpcException e)
        {
            await Console.Error.WriteLineAsync($"coordination.etcd.endpoints: etcd did not answer: {e.Status.Detail}");
            return null;
        }
    }

    /// <summary>The state <c>status</c> shows, and with coordination the leader and the monitors' views as etcd holds them; null when etcd does not answer.</summary>
    public static async Task<SharedStatus?> StatusAsync(FailoverWatchOptions options, CancellationToken cancellationToken)
    {
        if (options.Coordination is not { } coordination)
        {
            return new SharedStatus(FailoverStateStore.Load(options.Monitor.StateFile), null);
        }

        return await FromEtcdAsync(options, coordination, async (etcd, keys) =>
        {
            var state = await etcd.GetAsync(keys.State, cancellationToken) is { } stored ? EtcdStateStore.Parse(stored.Value.Span) : FailoverState.Empty;
            var leader = (await etcd.GetAsync(keys.Leader, cancellationToken))?.Value.ToStringUtf8();
            var monitors = MonitorView.ReadAll(await etcd.GetPrefixAsync(keys.Monitors, cancellationToken)).OrderBy(m => m.Name, StringComparer.Ordinal);
            return new SharedStatus(state, CoordinationStatus.Fields(coordination.Name, leader, monitors));
        });
    }
}

internal sealed record SharedStatus(FailoverState State, Dictionary<string, JsonElement>? Coordination);
