using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Logging;
using FailoverWatch.Monitoring;
using FailoverWatch.Replication;
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
    IMonitorLeadership? leadership = null,
    SyncStandbyManager? replication = null,
    IRejoinRequests? rejoins = null)
{
    private readonly IMonitorLeadership _leadership = leadership ?? new SoleMonitor();

    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);

    /// <param name="cancellationToken">The host's stopping token, never a request's: a client that goes away after
    /// stop_command must not leave a stopped primary and nothing promoted.</param>
    /// <param name="decisionsHeld">The caller holds the decision lock already: a round that decided a <see cref="QuorumSwitchover"/>.</param>
    /// <param name="incident">Where the old primary's rejoin is recorded (a drill's); default none.</param>
    public async Task<SwitchoverResult> SwitchAsync(string target, CancellationToken cancellationToken, bool decisionsHeld = false, Incidents.IncidentHandle? incident = null)
    {
        using var activity = FailoverWatchActivity.Source.StartActivity("switchover");
        var started = time.GetTimestamp();

        // Waited out before the decision lock, which a rejoin can take minutes to release; checked again under it.
        if (!decisionsHeld && rejoins is not null && rejoins.IsRejoining(target))
        {
            var bound = RejoinWait.Bound(options.Monitor.RejoinTimeout);
            Step($"waiting up to {Duration.Format(bound)} for the rejoin of {target} to finish");
            if (await RejoinWait.UntilIdleAsync(rejoins, target, bound, time, cancellationToken) is { } busy)
            {
                Step($"refused: {busy}");
                return new(false, coordinator.RecordedPrimary ?? "", target, busy, time.GetElapsedTime(started).TotalSeconds);
            }
        }

        // Read under the decision lock, after any failover under way has finished: that may have changed the primary.
        return await (decisionsHeld ? SwitchRecordedAsync() : coordinator.WithDecisionsHeldAsync(SwitchRecordedAsync, cancellationToken));

        // Whatever the outcome, the record goes with it; only a monitor that dies mid-way leaves one for the next leader.
        async Task<SwitchoverResult> SwitchRecordedAsync()
        {
            try
            {
                return await SwitchHeldAsync();
            }
            finally
            {
                await ForgetAsync(cancellationToken);
            }
        }

        async Task<SwitchoverResult> SwitchHeldAsync()
        {
            var primary = coordinator.RecordedPrimary ?? "";
            SwitchoverResult Result(bool ok, string message) => new(ok, primary, target, message, time.GetElapsedTime(started).TotalSeconds);
            var view = await ProbeAsync(cancellationToken);
            if ((Refusal(view, primary, target) ?? (rejoins?.IsRejoining(target) == true ? RejoinWait.Busy(target) : null)) is { } refusal)
            {
                logger.SwitchoverStep($"refused: {refusal}");
                return Result(false, refusal);
            }

            var stopCommand = options.Cluster.Node(primary).StopCommand;
            if (await RecordAsync(primary, target, SwitchoverRecord.CatchingUp, cancellationToken) is { } unrecorded)
            {
                return Result(false, unrecorded);
            }

            Step($"waiting for {target} to receive everything {primary} wrote");
            if (!await WaitAsync(v => v.Find(target) is { ReceiveLagBytes: 0 }, cancellationToken))
            {
                return Result(false, $"{target} did not catch up with {primary} within {StepTimeout.TotalSeconds:0}s");
            }

            if (await RecordAsync(primary, target, SwitchoverRecord.Stopping, cancellationToken) is { } notStopping)
            {
                return Result(false, notStopping);
            }

            Step($"stopping {primary}");
            if (!await commands.RunAsync(ClusterCommandRunner.Stop, stopCommand, primary, ClusterCommandRunner.SwitchoverEvent, primary, target, cancellationToken))
            {
                return Result(false, $"stop_command of {primary} failed; nothing was promoted");
            }

            if (await FinishAsync(primary, target, incident ?? Incidents.IncidentHandle.None, cancellationToken) is { } failed)
            {
                return Result(false, failed);
            }

            var done = Result(true, Done(primary, target));
            Step(done.Message);
            return done;
        }
    }

    /// <summary>
    /// A switchover a deposed or dead leader left in etcd, found by this one as it was elected: finished when the old
    /// primary's stop ran (it no longer answers), else dropped, the old primary still running as before.
    /// </summary>
    public Task ResumeAsync(SwitchoverRecord record, CancellationToken cancellationToken) =>
        coordinator.WithDecisionsHeldAsync(
            async () =>
            {
                try
                {
                    var view = await ProbeAsync(cancellationToken);
                    if (record.Phase != SwitchoverRecord.Stopping || view.Find(record.From) is not { Report.Reachable: false } || coordinator.RecordedPrimary != record.From)
                    {
                        Step($"dropping the switchover from {record.From} to {record.To} that {record.Monitor} left ({record.Phase}): {record.From} was not stopped by it");
                        return true;
                    }

                    Step($"finishing the switchover from {record.From} to {record.To} that {record.Monitor} left after stopping {record.From}");
                    Step(await FinishAsync(record.From, record.To, Incidents.IncidentHandle.None, cancellationToken) is { } failed ? $"failed: {failed}" : Done(record.From, record.To));
                    return true;
                }
                finally
                {
                    await ForgetAsync(cancellationToken);
                }
            },
            cancellationToken);

    // The host rejoins the old primary itself where it has a rejoin_command (FinishAsync asks for it); else it is the operator's.
    private string Done(string primary, string target) =>
        !options.Cluster.HasRejoinCommand(primary)
            ? $"{target} is the primary; {primary} is stopped (rejoin it as a standby by hand: failoverwatch rejoin, README \"Bringing the old primary back as a standby\")"
            : $"{target} is the primary; {primary} is stopped and its rejoin_command makes it a standby of {target} next";

    /// <summary>After the stop: replay, promote, record, hook. Null when done, else what failed.</summary>
    private async Task<string?> FinishAsync(string primary, string target, Incidents.IncidentHandle incident, CancellationToken cancellationToken)
    {
        Step($"waiting for {target} to replay everything it received");
        if (!await WaitAsync(v => v.Find(primary) is { Report.Reachable: false } && v.Find(target) is { IsStreaming: false, Report: { ReplayLsn: { } replay, ReceiveLsn: { } received } } && replay >= received, cancellationToken))
        {
            return $"{target} did not finish replaying within {StepTimeout.TotalSeconds:0}s; {primary} is stopped and nothing was promoted";
        }

        Step($"promoting {target}");
        if (replication is not null)
        {
            await replication.PrepareTargetAsync(target, cancellationToken);
        }

        if (await promoter.PromoteAsync(target, options.Monitor.PromotionTimeout, cancellationToken) is { } error)
        {
            return $"promotion of {target} failed: {error}; {primary} is stopped";
        }

        // The old primary's rejoin is written with the new primary, so a monitor killed at any later point (during the
        // hook, say) still brings it back. It may run beside the hook and the checkpoint: the old primary is stopped and
        // nothing else touches it, and the rejoin checkpoints its source itself when it needs to.
        await coordinator.RecordSwitchoverAsync(primary, target, rejoins?.Prepare(primary, incident), cancellationToken);
        await Task.WhenAll(
            commands.RunAsync(ClusterCommandRunner.OnFailover, options.Hooks.OnFailover, target, ClusterCommandRunner.SwitchoverEvent, primary, target, cancellationToken),
            coordinator.CheckpointNewPrimaryAsync(target, cancellationToken));
        return null;
    }

    /// <summary>Null once etcd has it (or without coordination); else why the switchover must not go on.</summary>
    private async Task<string?> RecordAsync(string primary, string target, string phase, CancellationToken cancellationToken)
    {
        try
        {
            await _leadership.RecordSwitchoverAsync(new SwitchoverRecord(primary, target, phase, options.Coordination?.Name ?? "", time.GetUtcNow()), cancellationToken);
            return null;
        }
        catch (IOException e)
        {
            return e.Message;
        }
    }

    private async Task ForgetAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _leadership.RecordSwitchoverAsync(null, cancellationToken);
        }
        catch (IOException)
        {
            // No longer the leader: the record expires, and the next leader finds the primary it names in place.
        }
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
        var started = time.GetTimestamp();
        while (time.GetElapsedTime(started) < StepTimeout)
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
