using System.CommandLine;
using FailoverWatch.Backup;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Monitoring;
using FailoverWatch.Readiness;
using FailoverWatch.Routing;
using FailoverWatch.State;
using Grpc.Core;

namespace FailoverWatch.Cli;

internal static class DoctorCommand
{
    public const int NotReadyExitCode = 1;

    public static Command Create()
    {
        var config = ConfigFileOption.Create();
        var command = new Command("doctor", "Check, before it is needed, that a failover would work now: one NODE: problem line per blocker") { config };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (ConfigFileOption.Load(parseResult, config) is not { } options)
            {
                return ConfigFileOption.InvalidConfigExitCode;
            }

            // Backup sources are warnings: they never make a failover not ready.
            foreach (var warning in await BackupSourceWarnings.CheckAsync(options, cancellationToken))
            {
                Console.Error.WriteLine($"warning: {warning}");
            }

            var state = FailoverStateStore.Load(options.Monitor.StateFile);
            var reports = await new ClusterProber(options, TimeProvider.System).ProbeAllAsync(cancellationToken);
            var view = ClusterView.Build(reports, state.Primary, Lsn.ParseOrNull(state.PrimaryLsn), DateTimeOffset.UtcNow);
            var primary = ClusterPrimary.Name(view, state);
            var report = await new FailoverReadiness(options, TimeProvider.System).CheckAsync(view, primary, cancellationToken);
            var (etcdProblems, etcdWarning, etcdSize) = await EtcdAsync(options, cancellationToken);
            if (etcdWarning is not null)
            {
                Console.Error.WriteLine($"warning: {etcdWarning}");
            }

            foreach (var problem in report.Problems.Select(p => p.ToString()).Concat(etcdProblems))
            {
                Console.WriteLine(problem);
            }

            if (report.Problems.Count > 0 || etcdProblems.Count > 0)
            {
                return NotReadyExitCode;
            }

            Console.WriteLine($"ready: primary {primary ?? "none"}; a failover to {string.Join(" or ", report.Standbys.Keys)} would work now{(etcdSize is null ? "" : "; etcd " + etcdSize)}");
            return 0;
        });
        return command;
    }

    /// <summary>With coordination, etcd's space: a failover needs a state write.</summary>
    private static async Task<(IReadOnlyList<string> Problems, string? Warning, string? Size)> EtcdAsync(FailoverWatchOptions options, CancellationToken cancellationToken)
    {
        if (options.Coordination is not { } coordination)
        {
            return ([], null, null);
        }

        using var etcd = new EtcdGateway(coordination.Etcd, TimeProvider.System);
        try
        {
            return await EtcdSpaceCheck.CheckAsync(etcd, cancellationToken);
        }
        catch (RpcException e)
        {
            return ([$"etcd: did not answer: {e.Status.Detail}"], null, null);
        }
    }
}
