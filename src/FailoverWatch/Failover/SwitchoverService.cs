using System.Diagnostics;
using FailoverWatch.Configuration;
using FailoverWatch.Logging;
using FailoverWatch.Monitoring;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Failover;

/// <summary>
/// A planned, clean role swap: let the target catch up, stop the primary with its stop_command, wait until
/// the target has replayed everything the primary wrote (its shutdown checkpoint included), promote it.
/// Automatic decisions are held for the whole time, so the stopped primary never triggers a failover.
/// </summary>
internal sealed class SwitchoverService(
    FailoverWatchOptions options,
    ClusterProber prober,
    FailoverCoordinator coordinator,
    NodePromoter promoter,
    ClusterCommandRunner commands,
    TimeProvider time,
    ILogger<SwitchoverService> logger,
    Rejoin.RejoinService? rejoins = null)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);

    /// <param name="cancellationToken">The host's stopping token, never a request's: a client that goes away after
    /// stop_command must not leave a stopped primary and nothing promoted.</param>
    public async Task<SwitchoverResult> SwitchAsync(string target, CancellationToken cancellationToken)
    {
        using var activity = FailoverWatchActivity.Source.StartActivity("switchover");
        var started = time.GetTimestamp();

        // Read under the decision lock, after any failover under way has finished: that may have changed the primary.
        return await coordinator.WithDecisionsHeldAsync(async () =>
        {
            var primary = coordinator.RecordedPrimary ?? "";
            SwitchoverResult Result(bool ok, string message) => new(ok, primary, target, message, time.GetElapsedTime(started).TotalSeconds);
            var view = await ProbeAsync(cancellationToken);
            if (Refusal(view, primary, target) is { } refusal)
            {
                logger.SwitchoverStep($"refused: {refusal}");
                return Result(false, refusal);
            }

            var stopCommand = options.Cluster.Nodes.First(n => n.Name == primary).StopCommand;
            Step($"waiting for {target} to receive everything {primary} wrote");
            if (!await WaitAsync(v => v.Find(target) is { ReceiveLagBytes: 0 }, cancellationToken))
            {
                return Result(false, $"{target} did not catch up with {primary} within {StepTimeout.TotalSeconds:0}s");
            }

            Step($"stopping {primary}");
            if (!await commands.RunAsync(ClusterCommandRunner.Stop, stopCommand, primary, ClusterCommandRunner.SwitchoverEvent, primary, target, cancellationToken))
            {
                return Result(false, $"stop_command of {primary} failed; nothing was promoted");
            }

            Step($"waiting for {target} to replay everything it received");
            if (!await WaitAsync(v => v.Find(primary) is { Report.Reachable: false } && v.Find(target) is { IsStreaming: false, Report: { ReplayLsn: { } replay, ReceiveLsn: { } received } } && replay >= received, cancellationToken))
            {
                return Result(false, $"{target} did not finish replaying within {StepTimeout.TotalSeconds:0}s; {primary} is stopped and nothing was promoted");
            }

            Step($"promoting {target}");
            if (await promoter.PromoteAsync(target, options.Monitor.PromotionTimeout, cancellationToken) is { } error)
            {
                return Result(false, $"promotion of {target} failed: {error}; {primary} is stopped");
            }

            await coordinator.RecordSwitchoverAsync(primary, target, cancellationToken);
            await Task.WhenAll(
                commands.RunAsync(ClusterCommandRunner.OnFailover, options.Hooks.OnFailover, target, ClusterCommandRunner.SwitchoverEvent, primary, target, cancellationToken),
                coordinator.CheckpointNewPrimaryAsync(target, cancellationToken));
            rejoins?.Request(primary, Incidents.IncidentHandle.None);
            var done = Result(true, $"{target} is the primary; {primary} is stopped (rejoin it as a standby with pg_rewind or a new base backup)");
            Step(done.Message);
            return done;
        }, cancellationToken);
    }

    private static string? Refusal(ClusterView view, string primary, string target)
    {
        if (view.Find(target) is not { } node)
        {
            return $"no node named {target}";
        }

        if (view.Find(primary) is not { IsReachablePrimary: true })
        {
            return $"the recorded primary '{primary}' is not a reachable primary; a switchover needs one (use failover)";
        }

        if (target == primary)
        {
            return $"{target} is already the primary";
        }

        return node.IsStreaming ? null : $"{target} is not a streaming standby ({node.Report.Failure?.ToString() ?? node.Report.WalReceiver?.Status ?? "no WAL receiver"})";
    }

    private async Task<ClusterView> ProbeAsync(CancellationToken cancellationToken) =>
        ClusterView.Build(await prober.ProbeAllAsync(cancellationToken), coordinator.RecordedPrimary, null, time.GetUtcNow());

    private async Task<bool> WaitAsync(Func<ClusterView, bool> condition, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StepTimeout)
        {
            if (condition(await ProbeAsync(cancellationToken)))
            {
                return true;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
        }

        return false;
    }

    private void Step(string step) => logger.SwitchoverStep(step);
}
