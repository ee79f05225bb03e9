using System.Diagnostics;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Incidents;
using FailoverWatch.Logging;
using FailoverWatch.Monitoring;
using FailoverWatch.Replication;
using FailoverWatch.State;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Failover;

/// <summary>
/// Carries out what <see cref="FailoverPolicy"/> decides: promote, fence, hooks, state file, metrics. The only place
/// that changes a server's role. Counts and logs each episode once, not each round.
/// A round decides (quickly, under the decision lock) and hands what it decided to a task beside the monitor loop,
/// which holds the lock until it is done: probing and publishing never wait for a promotion, fence or hook, and
/// rounds meanwhile only observe. A switchover takes the same lock, so it waits for a running failover's fence and hook.
/// </summary>
internal sealed class FailoverCoordinator(
    FailoverWatchOptions options,
    IClusterStateStore store,
    NodePromoter promoter,
    IncidentRecorder incidents,
    ClusterCommandRunner commands,
    FailoverWatchMetrics metrics,
    TimeProvider time,
    ILogger<FailoverCoordinator> logger,
    IMonitorLeadership? leadership = null,
    SyncStandbyManager? replication = null,
    IRejoinRequests? rejoins = null)
{
    private static readonly TimeSpan PrimaryLsnRetryAfter = TimeSpan.FromSeconds(10);
    private readonly string _cluster = options.Cluster.Name;

    // Without coordination (and in tests built by hand) the only monitor, always the leader.
    private readonly IMonitorLeadership _leadership = leadership ?? new SoleMonitor();
    private readonly FailoverPolicySettings _settings = FailoverPolicySettings.From(options);

    private readonly SplitBrainGuard _splitBrain = new(options, incidents, commands, metrics, logger);
    private readonly SemaphoreSlim _decisions = new(1, 1);
    private readonly PendingRound _pending = new();
    private PrimaryHealth _health = PrimaryHealth.Initial;
    private FailoverDecision? _lastDecision;
    private DateTimeOffset? _lastCountedProbe;
    private DateTimeOffset _primaryLsnRetryAt;
    private Func<string, CancellationToken, Task<SwitchoverResult>>? _switchover;

    public string? RecordedPrimary => store.Current.Primary;

    /// <summary>This monitor's count of failed probes of the recorded primary in a row, which it publishes to the other monitors.</summary>
    public int PrimaryFailures => _health.ConsecutiveFailures;

    public FailoverState State => store.Current;

    /// <summary>The primary's position saved by this or an earlier monitor process.</summary>
    public Lsn? SavedPrimaryLsn => Lsn.ParseOrNull(store.Current.PrimaryLsn);

    /// <summary>What the last round decided is being carried out by this task (completed when nothing is).</summary>
    internal Task Acting { get; private set; } = Task.CompletedTask;

    /// <summary>Split-brain fences and announcements still running, beside <see cref="Acting"/>.</summary>
    internal Task SplitBrainHandling => _splitBrain.Running;

    /// <summary>
    /// Automatic actions are off (<c>pause</c>): no promotion, adoption, fence, rejoin or change of the synchronous
    /// set may start while true. Detecting, alerting, recording incidents and routing go on.
    /// </summary>
    public bool IsPaused => store.Current.Paused;

    /// <summary>How long the decision being carried out has run; <c>/healthz</c> fails once it is past its bound.</summary>
    public DecisionClock DecisionClock { get; } = new(options, time);

    /// <summary>Makes every counter series exist at 0 and the state gauges right, before the first round.</summary>
    public void Initialise()
    {
        foreach (var result in FailoverResults.All)
        {
            metrics.Failovers.Touch(_cluster, result);
        }

        metrics.SplitBrains.Touch(_cluster);
        metrics.DecisionRunning.Set(0, _cluster);
        metrics.DecisionBound.Set(DecisionClock.Bound.TotalSeconds, _cluster);
        commands.Initialise();
        PublishState(store.Current);
    }

    public async Task SetPausedAsync(bool paused, string who, CancellationToken cancellationToken)
    {
        var state = await store.UpdateAsync(s => s with { Paused = paused }, cancellationToken);
        logger.PauseChanged(paused ? "paused" : "resumed", who);
        PublishState(state);
    }

    /// <summary>
    /// Runs <paramref name="work"/> while no round may decide anything (a switchover changes roles itself), once
    /// whatever a round started (a failover's fence and hook included) is done.
    /// </summary>
    public async Task<T> WithDecisionsHeldAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken)
    {
        await _decisions.WaitAsync(cancellationToken);
        try
        {
            return await work();
        }
        finally
        {
            await ReleaseDecisionsAsync(cancellationToken);
        }
    }

    /// <summary>How a round carries out a <see cref="QuorumSwitchover"/>: the switchover's steps, under the lock the round holds.</summary>
    public void UseSwitchover(Func<string, CancellationToken, Task<SwitchoverResult>> switchover) => _switchover = switchover;

    /// <param name="rejoin">The old primary's rejoin, written with the new primary: no crash can leave one without the other.</param>
    public async Task RecordSwitchoverAsync(string from, string to, PendingRejoin? rejoin, CancellationToken cancellationToken)
    {
        var record = new FailoverRecord(from, to, time.GetUtcNow(), FailoverResults.Promoted, "switchover");
        PublishState(await store.UpdateAsync(
            s => s with { Primary = to, History = [.. s.History, record], Replication = s.Replication.ForNewPrimary(record.At), Rejoins = rejoin is null ? s.Rejoins : [.. s.Rejoins.Where(p => p.Node != from), rejoin] },
            cancellationToken));
        _health = PrimaryHealth.Initial;
    }

    /// <summary>Decides on this round's view and starts carrying it out beside the loop; returns without waiting for it.</summary>
    public async Task OnRoundAsync(ClusterView view, CancellationToken cancellationToken)
    {
        metrics.DecisionRunning.Set(DecisionClock.Running.TotalSeconds, _cluster);

        // Split brain first, on its own path: its fence never waits for a decision still carried out.
        if (_leadership.IsLeader)
        {
            var splitBrain = FailoverPolicy.Decide(view, store.Current, _health, _settings, time.GetUtcNow(), _leadership.Quorum(store.Current.Primary, _health.ConsecutiveFailures)) as ResolveSplitBrain;
            _splitBrain.OnRound(splitBrain, fence: !IsPaused, cancellationToken);
        }

        // A round during a switchover, or while an earlier decision is still carried out, is decided once the lock frees.
        _pending.Offer(view, store.Current.Primary);
        await DecidePendingAsync(cancellationToken);
    }

    /// <summary>Decides on the pending view while the lock is free (a round that only observes releases it at once).</summary>
    private async Task DecidePendingAsync(CancellationToken cancellationToken)
    {
        while (_pending.Waiting && await _decisions.WaitAsync(TimeSpan.Zero, cancellationToken))
        {
            if (_pending.Take(store.Current.Primary) is not { } view || !Decide(view, cancellationToken))
            {
                _decisions.Release();
            }
        }
    }

    /// <summary>Under the lock: true when the decision is carried out beside the loop, which releases the lock when done.</summary>
    private bool Decide(ClusterView view, CancellationToken cancellationToken)
    {
        FailoverDecision decision;
        try
        {
            TrackPrimaryHealth(view);
            if (!_leadership.IsLeader)
            {
                // Another monitor decides and writes the state; this one counts its failed probes of the primary,
                // which it publishes, and shows the state as the leader left it (paused, last failover).
                PublishState(store.Current);
                return false;
            }

            var quorum = _leadership.Quorum(store.Current.Primary, _health.ConsecutiveFailures);
            decision = FailoverPolicy.Decide(view, store.Current, _health, _settings, time.GetUtcNow(), quorum);
            incidents.Observe(view, store.Current, _health, decision, quorum);
        }
        catch
        {
            _decisions.Release();
            throw;
        }

        DecisionClock.Start();
        Acting = Task.Run(() => CarryOutAsync(decision, view, cancellationToken), CancellationToken.None);
        return true;
    }

    /// <summary>Frees the lock, then decides on a view that waited for it.</summary>
    private async Task ReleaseDecisionsAsync(CancellationToken cancellationToken)
    {
        _decisions.Release();
        try
        {
            await DecidePendingAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.RoundFailed(e);
        }
    }

    /// <summary>The decision, then the primary's position: a state file that cannot take the one never blocks the other.</summary>
    private async Task CarryOutAsync(FailoverDecision decision, ClusterView view, CancellationToken cancellationToken)
    {
        try
        {
            await ActAsync(decision, view, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.DecisionFailed(decision.Reason, e);
        }

        // Under the decision lock: the synchronous set never changes while a failover or switchover runs.
        if (replication is not null && decision is NoAction && store.Current is { InProgress: null, Primary: { } primary } && view.Primaries is [{ Name: var writable }] && writable == primary)
        {
            await replication.RunRoundAsync(primary, cancellationToken);
        }

        try
        {
            await SavePrimaryPositionAsync(view, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.PrimaryPositionNotSaved(e.Message);
        }
        finally
        {
            DecisionClock.Stop();
            metrics.DecisionRunning.Set(0, _cluster);
        }

        await ReleaseDecisionsAsync(cancellationToken);
    }

    private async Task SavePrimaryPositionAsync(ClusterView view, CancellationToken cancellationToken)
    {
        // The timeline each primary is first seen writable on: what a writable node must descend from to be named or adopted.
        var primary = view.Find(store.Current.Primary);
        if (PrimaryLineage.Record(store.Current, primary) != store.Current)
        {
            await store.UpdateAsync(s => PrimaryLineage.Record(s, primary), cancellationToken);
        }

        if (view.Find(store.Current.Primary) is not { IsReachablePrimary: true, Report.CurrentLsn: { } lsn })
        {
            return;
        }

        if (view.At >= _primaryLsnRetryAt && PrimaryPositionSave.Due(SavedPrimaryLsn, lsn, _settings.MaxLagOnFailoverBytes))
        {
            // Set first: a state that refuses the write is tried again in 10 s, not every round.
            _primaryLsnRetryAt = view.At + PrimaryLsnRetryAfter;
            await store.UpdateAsync(s => s with { PrimaryLsn = lsn.ToString() }, cancellationToken);
            _primaryLsnRetryAt = default;
        }
    }

    private async Task ActAsync(FailoverDecision decision, ClusterView view, CancellationToken cancellationToken)
    {
        var isNew = decision != _lastDecision;
        _lastDecision = decision;

        switch (decision)
        {
            case NoAction when isNew:
                logger.Decision(decision.Reason);
                break;
            case HoldFailover hold:
                metrics.FailoversHeld.Inc(_cluster, hold.Label);
                if (isNew)
                {
                    logger.FailoverHeld(hold.Reason);
                    await incidents.RecordAsync(IncidentKinds.HeldFailover, hold, store.Current.Primary, null, cancellationToken);
                }

                if (hold.Label == "promotion_pending")
                {
                    await FencePendingPromotionAsync(cancellationToken);
                }

                break;
            case RefuseLag refuse when isNew:
                metrics.Failovers.Inc(_cluster, FailoverResults.RefusedLag);
                logger.FailoverRefused(decision.Reason);
                await incidents.RecordAsync(IncidentKinds.RefusedPromotion, refuse, store.Current.Primary, refuse.Target, cancellationToken);
                break;
            case AdoptPrimary adopt:
                // A first start finds the primary: recorded quietly, no incident (nothing happened to the cluster).
                var firstStart = store.Current.Primary is null;
                await store.UpdateAsync(s => s with { Primary = adopt.Node }, cancellationToken);
                logger.PrimaryAdopted(adopt.Node, adopt.Reason);
                if (!firstStart)
                {
                    await incidents.RecordAsync(IncidentKinds.Adoption, adopt, null, adopt.Node, cancellationToken);
                }

                break;
            case AdoptWritable adopt:
                await AdoptWritableAsync(adopt, cancellationToken);
                break;
            case Promote promote:
                await FailOverAsync(promote, view, cancellationToken);
                break;
            case QuorumSwitchover switchover:
                await SwitchOverForQuorumAsync(switchover, cancellationToken);
                break;
            case ResolveSplitBrain splitBrain when store.Current.Primary is null:
                // Fenced by the guard; the node kept is the primary from now on.
                await store.UpdateAsync(s => s with { Primary = splitBrain.Keep }, cancellationToken);
                break;
            case CompleteInterruptedFailover complete:
                await CompleteInterruptedFailoverAsync(complete.Failover, complete.Reason, cancellationToken);
                break;
            case ResolveSplitBrain splitBrain when store.Current.InProgress is { } failover && failover.To == splitBrain.Keep && !IsPaused:
                // The target of a failover under way (from before a restart) is writable beside a node that came back
                // and cannot be fenced: the guard keeps fencing that one; the failover is finished all the same, so the
                // target is recorded and on_failover repoints the clients, not held until the fence works.
                await CompleteInterruptedFailoverAsync(failover, $"failover from {failover.From} to {failover.To} was under way and {failover.To} is writable: finishing it ({splitBrain.Reason})", cancellationToken);
                break;
            case AbandonInterruptedFailover abandon:
                logger.InterruptedFailover(abandon.Reason);
                if (abandon.Failover.PromoteSentAt is not null)
                {
                    await RecordFailedPromotionAsync(abandon.Failover, abandon.Reason, cancellationToken);
                }
                else
                {
                    await store.UpdateAsync(s => s with { InProgress = null }, cancellationToken);
                }

                break;
        }
    }

    private async Task CompleteInterruptedFailoverAsync(FailoverInProgress failover, string reason, CancellationToken cancellationToken)
    {
        logger.InterruptedFailover(reason);
        await RecordNewPrimaryAsync(failover.From, failover.To, FailoverResults.Promoted, reason, failover.StartedAt, cancellationToken);
        await FinishFailoverAsync(failover.From, failover.To, ClusterCommandRunner.FailoverEvent, fence: null, activity: null, IncidentHandle.None, cancellationToken);
    }

    /// <summary>Counts each finished probe of the primary once: a round may repeat a report whose successor is still running.</summary>
    private void TrackPrimaryHealth(ClusterView view)
    {
        var primary = view.Find(store.Current.Primary);
        if (primary is not null && primary.Report.ProbedAt == _lastCountedProbe)
        {
            return;
        }

        _lastCountedProbe = primary?.Report.ProbedAt;
        _health = primary switch
        {
            null => _health with { ConsecutiveFailures = 0 },
            { Report.Reachable: true } => _health with { ConsecutiveFailures = 0, LastSeenAt = view.At },
            _ => _health with { ConsecutiveFailures = _health.ConsecutiveFailures + 1 },
        };
    }

    /// <summary>A node writable while the recorded primary is dead: it is the primary now, taken over as after a failover.</summary>
    private async Task AdoptWritableAsync(AdoptWritable adopt, CancellationToken cancellationToken)
    {
        logger.PrimaryAdopted(adopt.Node, adopt.Reason);
        var activity = FailoverWatchActivity.Source.StartActivity("adopt");
        activity?.SetTag("failoverwatch.old_primary", adopt.OldPrimary);
        activity?.SetTag("failoverwatch.new_primary", adopt.Node);
        var incident = incidents.Open(IncidentKinds.Adoption, adopt, adopt.OldPrimary, adopt.Node, walLostBytes: null);
        await RecordNewPrimaryAsync(adopt.OldPrimary, adopt.Node, FailoverResults.Adopted, adopt.Reason, since: null, cancellationToken);
        await FinishFailoverAsync(adopt.OldPrimary, adopt.Node, ClusterCommandRunner.AdoptedEvent, fence: null, activity, incident, cancellationToken);
    }

    private async Task FailOverAsync(Promote promote, ClusterView view, CancellationToken cancellationToken)
    {
        // Ended when the fence and the hook are done.
        var activity = FailoverWatchActivity.Source.StartActivity("failover");
        activity?.SetTag("failoverwatch.old_primary", promote.OldPrimary);
        activity?.SetTag("failoverwatch.new_primary", promote.Target);
        logger.FailoverStarting(promote.Reason);
        var started = time.GetTimestamp();
        var failover = new FailoverInProgress(promote.OldPrimary, promote.Target, time.GetUtcNow());
        if (!await RecordFailoverStartedAsync(failover, activity, cancellationToken))
        {
            return;
        }

        var incident = incidents.Open(IncidentKinds.Failover, promote, promote.OldPrimary, promote.Target, view.Find(promote.Target)?.ReceiveLagBytes);

        // The old primary is fenced while the standby is promoted, not after: the earlier the fence, the
        // shorter any window with two writable nodes, and a slow fence never delays the promotion.
        var fence = incident.TrackAsync(IncidentPhases.Fence, FenceAsync(promote.OldPrimary, promote.OldPrimary, promote.Target, ClusterCommandRunner.FailoverEvent, cancellationToken), cancellationToken);
        string? error;
        using (var promoteSpan = FailoverWatchActivity.Source.StartActivity("promote"))
        {
            promoteSpan?.SetTag("failoverwatch.node", promote.Target);
            error = await PromoteAsync(failover, view, incident, cancellationToken);
            promoteSpan?.SetStatus(error is null ? ActivityStatusCode.Ok : ActivityStatusCode.Error, error);
        }

        incident.Phase(IncidentPhases.Writable, error is null, error, cancellationToken);
        if (error is not null)
        {
            await fence;
            await incident.CloseAsync(FailoverResults.Failed, cancellationToken);
            activity?.SetStatus(ActivityStatusCode.Error, error);
            activity?.Dispose();
            await RecordFailedPromotionAsync(failover, error, cancellationToken);
            return;
        }

        logger.Promoted(promote.Target, time.GetElapsedTime(started).TotalSeconds);
        await RecordNewPrimaryAsync(failover.From, failover.To, FailoverResults.Promoted, promote.Reason, failover.StartedAt, cancellationToken);

        // The hook (repointing clients) does not wait for a slow fence.
        await FinishFailoverAsync(failover.From, failover.To, ClusterCommandRunner.FailoverEvent, fence, activity, incident, cancellationToken);
    }

    /// <summary>One that fails waits as a failed promotion does, so the old primary is not stopped again every round.</summary>
    private async Task SwitchOverForQuorumAsync(QuorumSwitchover switchover, CancellationToken cancellationToken)
    {
        logger.FailoverStarting(switchover.Reason);
        var result = _switchover is null ? null : await _switchover(switchover.Target, cancellationToken);
        if (result is not { Succeeded: true })
        {
            logger.PromotionFailed(switchover.Target, result?.Message ?? "this monitor cannot switch over");
            _health = _health with { LastFailedPromotionAt = time.GetUtcNow() };
        }
    }

    /// <summary>Recorded before promoting: a monitor that dies from here on finishes or abandons this failover on restart, never repeats it.</summary>
    private async Task<bool> RecordFailoverStartedAsync(FailoverInProgress failover, Activity? activity, CancellationToken cancellationToken)
    {
        try
        {
            await store.UpdateAsync(s => s with { InProgress = failover }, cancellationToken);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.FailoverNotRecorded(failover.To, e.Message);
            metrics.FailoversHeld.Inc(_cluster, "state_unwritable");
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            activity?.Dispose();
            return false;
        }
    }

    /// <summary>pg_promote, recorded as sent, then the wait (up to promotion_timeout) until the target accepts writes.</summary>
    private async Task<string?> PromoteAsync(FailoverInProgress failover, ClusterView view, IncidentHandle incident, CancellationToken cancellationToken)
    {
        if (replication is not null)
        {
            await replication.PrepareTargetAsync(failover.To, cancellationToken);
        }

        var requested = time.GetUtcNow();
        var refused = await promoter.RequestPromotionAsync(failover.To, cancellationToken);
        incident.Phase(IncidentPhases.Promote, refused is null, refused, cancellationToken, requested);
        if (refused is not null)
        {
            return refused;
        }

        var sent = failover with { PromoteSentAt = time.GetUtcNow() };
        await store.UpdateAsync(s => s with { InProgress = sent }, cancellationToken);
        logger.PromotionRequested(failover.To, _settings.PromotionTimeout.TotalSeconds, FailoverPolicy.Backlog(view.Find(failover.To)));
        return await promoter.WaitUntilWritableAsync(failover.To, _settings.PromotionTimeout, cancellationToken);
    }

    /// <summary>Counted, logged, and held for the retry wait; should the target turn writable later, it is adopted.</summary>
    private async Task RecordFailedPromotionAsync(FailoverInProgress failover, string error, CancellationToken cancellationToken)
    {
        logger.PromotionFailed(failover.To, error);
        metrics.Failovers.Inc(_cluster, FailoverResults.Failed);
        _health = _health with { LastFailedPromotionAt = time.GetUtcNow() };
        var record = new FailoverRecord(failover.From, failover.To, time.GetUtcNow(), FailoverResults.Failed, error);
        var sent = store.Current.InProgress?.PromoteSentAt is not null;
        await store.UpdateAsync(s => s with { InProgress = null, History = [.. s.History, record], PromotionPending = sent ? failover.To : s.PromotionPending }, cancellationToken);
        if (sent)
        {
            await FencePendingPromotionAsync(cancellationToken);
        }
    }

    /// <summary>A promotion given up may still complete: only a fence that works makes another promotion safe.</summary>
    private async Task FencePendingPromotionAsync(CancellationToken cancellationToken)
    {
        if (store.Current.PromotionPending is { } node && !IsPaused
            && await FenceAsync(node, store.Current.Primary ?? node, node, ClusterCommandRunner.FailoverEvent, cancellationToken))
        {
            await store.UpdateAsync(s => s with { PromotionPending = null }, cancellationToken);
        }
    }

    /// <summary>
    /// Records the new primary at once, so /status and metrics say so; idempotent after a restart (a record since
    /// <paramref name="since"/> is not repeated).
    /// </summary>
    private async Task RecordNewPrimaryAsync(string from, string to, string result, string reason, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var record = new FailoverRecord(from, to, time.GetUtcNow(), result, reason);
        var alreadyRecorded = since is { } start && store.Current.History.Any(h => h.Result == result && h.To == to && h.At >= start);
        var state = await store.UpdateAsync(
            s => s with { Primary = to, History = alreadyRecorded ? s.History : [.. s.History, record], PromotionPending = s.PromotionPending == to ? null : s.PromotionPending, Replication = s.Replication.ForNewPrimary(record.At) },
            cancellationToken);
        if (!alreadyRecorded && result == FailoverResults.Promoted)
        {
            metrics.Failovers.Inc(_cluster, FailoverResults.Promoted);
        }

        PublishState(state);
        _health = PrimaryHealth.Initial;
    }

    /// <summary>Fences the old primary (unless that is already under way), runs on_failover and the checkpoint, then marks the failover done.</summary>
    private async Task FinishFailoverAsync(string from, string to, string eventName, Task<bool>? fence, Activity? activity, IncidentHandle incident, CancellationToken cancellationToken)
    {
        try
        {
            fence ??= incident.TrackAsync(IncidentPhases.Fence, FenceAsync(from, from, to, eventName, cancellationToken), cancellationToken);
            var hook = incident.TrackAsync(IncidentPhases.Hook, RunOnFailoverAsync(from, to, eventName, cancellationToken), cancellationToken);
            var checkpoint = incident.TrackAsync(IncidentPhases.Checkpoint, CheckpointNewPrimaryAsync(to, cancellationToken), cancellationToken);
            await Task.WhenAll(fence, hook, checkpoint);
            if (!await fence)
            {
                // A split-brain round fences it again should it ever come back writable.
                logger.FenceFailed(from);
            }
            else if (rejoins is not null)
            {
                // Fenced, so nothing else touches it now: it may come back as a standby. Saved before the failover's end:
                // a monitor that dies between the two finishes the failover again and asks again, while the other
                // order would forget the rejoin; no rejoin runs while the failover is under way.
                await rejoins.RequestAsync(from, incident, cancellationToken);
            }

            await store.UpdateAsync(s => s with { InProgress = null }, cancellationToken);
            await incident.CloseAsync(eventName == ClusterCommandRunner.AdoptedEvent ? FailoverResults.Adopted : FailoverResults.Promoted, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The failover stays recorded as under way; the next round (or restart) finishes it.
            logger.FinishingFailoverFailed(to, e);
        }
        finally
        {
            activity?.Dispose();
        }
    }

    /// <summary>Only logged either way: the failover or switchover is complete without it; the old primary's rewind needs it.</summary>
    internal async Task<string?> CheckpointNewPrimaryAsync(string node, CancellationToken cancellationToken)
    {
        var error = await promoter.CheckpointAsync(node, options.Hooks.Timeout, cancellationToken);
        if (error is not null)
        {
            logger.CheckpointFailed(node, error);
        }
        else
        {
            logger.CheckpointDone(node);
        }

        return error;
    }

    /// <summary>on_failover: repoints the clients at the new primary.</summary>
    private Task<bool> RunOnFailoverAsync(string from, string to, string eventName, CancellationToken cancellationToken) =>
        commands.RunAsync(ClusterCommandRunner.OnFailover, options.Hooks.OnFailover, to, eventName, from, to, cancellationToken);

    private Task<bool> FenceAsync(string node, string oldPrimary, string newPrimary, string eventName, CancellationToken cancellationToken) =>
        _splitBrain.FenceAsync(node, oldPrimary, newPrimary, eventName, cancellationToken);

    private void PublishState(FailoverState state)
    {
        metrics.AutoFailoverEnabled.Set(options.Monitor.AutoFailover && !state.Paused ? 1 : 0, _cluster);
        metrics.Paused.Set(state.Paused ? 1 : 0, _cluster);
        replication?.Publish(state);
        if (state.LastFailover is { } last)
        {
            metrics.LastFailoverTimestamp.SetTime(last.At, _cluster);
        }
    }
}
