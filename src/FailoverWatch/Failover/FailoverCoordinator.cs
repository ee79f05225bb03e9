using System.Diagnostics;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Logging;
using FailoverWatch.Monitoring;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Failover;

/// <summary>
/// Carries out what <see cref="FailoverPolicy"/> decides, once per round: promote, fence, hooks, state file,
/// metrics. The only place that changes a server's role. Counts and logs each episode once, not each round.
/// </summary>
internal sealed class FailoverCoordinator(
    FailoverWatchOptions options,
    IClusterStateStore store,
    IMonitorLeadership leadership,
    NodePromoter promoter,
    ClusterCommandRunner commands,
    FailoverWatchMetrics metrics,
    TimeProvider time,
    ILogger<FailoverCoordinator> logger)
{
    private static readonly TimeSpan PrimaryLsnSaveEvery = TimeSpan.FromSeconds(10);
    private readonly string _cluster = options.Cluster.Name;
    private readonly FailoverPolicySettings _settings = FailoverPolicySettings.From(options);
    private readonly HashSet<string> _fencedThisSplitBrain = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _decisions = new(1, 1);
    private PrimaryHealth _health = PrimaryHealth.Initial;
    private FailoverDecision? _lastDecision;
    private DateTimeOffset? _lastCountedProbe;
    private Task _finishing = Task.CompletedTask;
    private DateTimeOffset _primaryLsnSavedAt;

    public string? RecordedPrimary => store.Current.Primary;

    /// <summary>This monitor's count of failed probes of the recorded primary in a row, which it publishes to the other monitors.</summary>
    public int PrimaryFailures => _health.ConsecutiveFailures;

    public FailoverState State => store.Current;

    /// <summary>The primary's position saved by this or an earlier monitor process.</summary>
    public Lsn? SavedPrimaryLsn => Lsn.ParseOrNull(store.Current.PrimaryLsn);

    /// <summary>Makes every counter series exist at 0 and the state gauges right, before the first round.</summary>
    public void Initialise()
    {
        foreach (var result in FailoverResults.All)
        {
            metrics.Failovers.Touch(_cluster, result);
        }

        metrics.SplitBrains.Touch(_cluster);
        PublishState(store.Current);
    }

    public async Task SetPausedAsync(bool paused, string who, CancellationToken cancellationToken)
    {
        var state = await store.UpdateAsync(s => s with { Paused = paused }, cancellationToken);
        logger.PauseChanged(paused ? "paused" : "resumed", who);
        PublishState(state);
    }

    /// <summary>Runs <paramref name="work"/> while no round may decide anything (a switchover changes roles itself).</summary>
    public async Task<T> WithDecisionsHeldAsync<T>(Func<Task<T>> work)
    {
        await _decisions.WaitAsync();
        try
        {
            return await work();
        }
        finally
        {
            _decisions.Release();
        }
    }

    public async Task RecordSwitchoverAsync(string from, string to, CancellationToken cancellationToken)
    {
        var record = new FailoverRecord(from, to, time.GetUtcNow(), FailoverResults.Promoted, "switchover");
        PublishState(await store.UpdateAsync(s => s with { Primary = to, History = [.. s.History, record] }, cancellationToken));
        _health = PrimaryHealth.Initial;
    }

    public async Task OnRoundAsync(ClusterView view, CancellationToken cancellationToken)
    {
        if (!leadership.IsLeader)
        {
            // Another monitor decides; this one counts its own failed probes of the primary for its published view.
            TrackPrimaryHealth(view);
            return;
        }

        // A round during a switchover, or while a failover's fence and hook still run, only observes.
        if (!_finishing.IsCompleted || !await _decisions.WaitAsync(TimeSpan.Zero, cancellationToken))
        {
            return;
        }

        try
        {
            await DecideAsync(view, cancellationToken);
            await SavePrimaryPositionAsync(view, cancellationToken);
        }
        finally
        {
            _decisions.Release();
        }
    }

    private async Task SavePrimaryPositionAsync(ClusterView view, CancellationToken cancellationToken)
    {
        if (view.Find(store.Current.Primary) is not { IsReachablePrimary: true, Report.CurrentLsn: { } lsn })
        {
            return;
        }

        var moved = SavedPrimaryLsn is { } saved ? lsn.BytesAhead(saved) : long.MaxValue;
        if (moved > 0 && (moved >= _settings.MaxLagOnFailoverBytes / 2 || view.At - _primaryLsnSavedAt >= PrimaryLsnSaveEvery))
        {
            await store.UpdateAsync(s => s with { PrimaryLsn = lsn.ToString() }, cancellationToken);
            _primaryLsnSavedAt = view.At;
        }
    }

    private async Task DecideAsync(ClusterView view, CancellationToken cancellationToken)
    {
        TrackPrimaryHealth(view);
        var decision = FailoverPolicy.Decide(view, store.Current, _health, _settings, time.GetUtcNow(), leadership.Quorum(store.Current.Primary, _health.ConsecutiveFailures));
        var isNew = decision != _lastDecision;
        _lastDecision = decision;
        if (decision is not ResolveSplitBrain)
        {
            _fencedThisSplitBrain.Clear();
        }

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
                }

                break;
            case RefuseLag when isNew:
                metrics.Failovers.Inc(_cluster, FailoverResults.RefusedLag);
                logger.FailoverRefused(decision.Reason);
                break;
            case AdoptPrimary adopt:
                await store.UpdateAsync(s => s with { Primary = adopt.Node }, cancellationToken);
                logger.PrimaryAdopted(adopt.Node, adopt.Reason);
                break;
            case Promote promote:
                await FailOverAsync(promote, cancellationToken);
                break;
            case ResolveSplitBrain splitBrain:
                await ResolveSplitBrainAsync(splitBrain, cancellationToken);
                break;
            case CompleteInterruptedFailover complete:
                logger.InterruptedFailover(complete.Reason);
                await RecordPromotionAsync(complete.Failover, complete.Reason, cancellationToken);
                _finishing = FinishFailoverAsync(complete.Failover, fence: null, activity: null, cancellationToken);
                break;
            case AbandonInterruptedFailover abandon:
                logger.InterruptedFailover(abandon.Reason);
                await store.UpdateAsync(s => s with { InProgress = null }, cancellationToken);
                break;
        }
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

    private async Task FailOverAsync(Promote promote, CancellationToken cancellationToken)
    {
        // Ended when the fence and the hook are done, which may be after this round.
        var activity = FailoverWatchActivity.Source.StartActivity("failover");
        activity?.SetTag("failoverwatch.old_primary", promote.OldPrimary);
        activity?.SetTag("failoverwatch.new_primary", promote.Target);
        logger.FailoverStarting(promote.Reason);
        var started = time.GetTimestamp();
        var failover = new FailoverInProgress(promote.OldPrimary, promote.Target, time.GetUtcNow());

        // Recorded before promoting: a monitor that dies from here on finishes or abandons this failover on restart.
        try
        {
            await store.UpdateAsync(s => s with { InProgress = failover }, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.FailoverNotRecorded(promote.Target, e.Message);
            metrics.FailoversHeld.Inc(_cluster, "state_unwritable");
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            activity?.Dispose();
            return;
        }

        // The old primary is fenced while the standby is promoted, not after: the earlier the fence, the
        // shorter any window with two writable nodes, and a slow fence never delays the promotion.
        var fence = FenceAsync(promote.OldPrimary, promote.OldPrimary, promote.Target, ClusterCommandRunner.FailoverEvent, cancellationToken);
        string? error;
        using (var promoteSpan = FailoverWatchActivity.Source.StartActivity("promote"))
        {
            promoteSpan?.SetTag("failoverwatch.node", promote.Target);
            error = await promoter.PromoteAsync(promote.Target, cancellationToken);
            promoteSpan?.SetStatus(error is null ? ActivityStatusCode.Ok : ActivityStatusCode.Error, error);
        }

        if (error is not null)
        {
            await fence;
            logger.PromotionFailed(promote.Target, error);
            activity?.SetStatus(ActivityStatusCode.Error, error);
            activity?.Dispose();
            metrics.Failovers.Inc(_cluster, FailoverResults.Failed);
            _health = _health with { LastFailedPromotionAt = time.GetUtcNow() };
            var record = new FailoverRecord(promote.OldPrimary, promote.Target, time.GetUtcNow(), FailoverResults.Failed, error);
            await store.UpdateAsync(s => s with { InProgress = null, History = [.. s.History, record] }, cancellationToken);
            return;
        }

        logger.Promoted(promote.Target, time.GetElapsedTime(started).TotalSeconds);
        await RecordPromotionAsync(failover, promote.Reason, cancellationToken);

        // The hook (repointing clients) must not wait for a slow fence, nor the monitor loop for either:
        // rounds go on observing while they run, and decide again once both are done.
        _finishing = FinishFailoverAsync(failover, fence, activity, cancellationToken);
    }

    /// <summary>Records the new primary at once, so /status and metrics say so; idempotent after a restart.</summary>
    private async Task RecordPromotionAsync(FailoverInProgress failover, string reason, CancellationToken cancellationToken)
    {
        var record = new FailoverRecord(failover.From, failover.To, time.GetUtcNow(), FailoverResults.Promoted, reason);
        var alreadyRecorded = store.Current.History.Any(h => h.Result == FailoverResults.Promoted && h.To == failover.To && h.At >= failover.StartedAt);
        var state = await store.UpdateAsync(
            s => s with { Primary = failover.To, History = alreadyRecorded ? s.History : [.. s.History, record] },
            cancellationToken);
        if (!alreadyRecorded)
        {
            metrics.Failovers.Inc(_cluster, FailoverResults.Promoted);
        }

        PublishState(state);
        _health = PrimaryHealth.Initial;
    }

    /// <summary>Fences the old primary (unless that is already under way) and runs on_failover, then marks the failover done.</summary>
    private async Task FinishFailoverAsync(FailoverInProgress failover, Task<bool>? fence, Activity? activity, CancellationToken cancellationToken)
    {
        try
        {
            fence ??= FenceAsync(failover.From, failover.From, failover.To, ClusterCommandRunner.FailoverEvent, cancellationToken);
            var hook = commands.RunAsync("hook", options.Hooks.OnFailover, failover.To, ClusterCommandRunner.FailoverEvent, failover.From, failover.To, cancellationToken);
            var checkpoint = CheckpointNewPrimaryAsync(failover.To, cancellationToken);
            await Task.WhenAll(fence, hook, checkpoint);
            await store.UpdateAsync(s => s with { InProgress = null }, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The failover stays recorded as under way; the next round (or restart) finishes it.
            logger.FinishingFailoverFailed(failover.To, e);
        }
        finally
        {
            activity?.Dispose();
        }
    }

    /// <summary>Only logged either way: the failover or switchover is complete without it; the old primary's rewind needs it.</summary>
    internal async Task CheckpointNewPrimaryAsync(string node, CancellationToken cancellationToken)
    {
        if (await promoter.CheckpointAsync(node, options.Hooks.Timeout, cancellationToken) is { } error)
        {
            logger.CheckpointFailed(node, error);
        }
        else
        {
            logger.CheckpointDone(node);
        }
    }

    private async Task ResolveSplitBrainAsync(ResolveSplitBrain splitBrain, CancellationToken cancellationToken)
    {
        var newNodes = splitBrain.Fence.Where(n => !_fencedThisSplitBrain.Contains(n)).ToList();
        if (newNodes.Count == 0)
        {
            return;
        }

        logger.SplitBrain(splitBrain.Reason);
        metrics.SplitBrains.Inc(_cluster);
        using var activity = FailoverWatchActivity.Source.StartActivity("split brain");
        if (store.Current.Primary is null)
        {
            await store.UpdateAsync(s => s with { Primary = splitBrain.Keep }, cancellationToken);
        }

        foreach (var node in newNodes)
        {
            _fencedThisSplitBrain.Add(node);
            await FenceAsync(node, node, splitBrain.Keep, ClusterCommandRunner.SplitBrainEvent, cancellationToken);
        }

        await commands.RunAsync("hook", options.Hooks.OnSplitBrain, splitBrain.Keep, ClusterCommandRunner.SplitBrainEvent, string.Join(",", newNodes), splitBrain.Keep, cancellationToken);
    }

    private Task<bool> FenceAsync(string node, string oldPrimary, string newPrimary, string eventName, CancellationToken cancellationToken) =>
        commands.RunAsync("fence", options.Cluster.Nodes.First(n => n.Name == node).FenceCommand, node, eventName, oldPrimary, newPrimary, cancellationToken);

    private void PublishState(FailoverState state)
    {
        metrics.AutoFailoverEnabled.Set(options.Monitor.AutoFailover && !state.Paused ? 1 : 0, _cluster);
        metrics.Paused.Set(state.Paused ? 1 : 0, _cluster);
        if (state.LastFailover is { } last)
        {
            metrics.LastFailoverTimestamp.SetTime(last.At, _cluster);
        }
    }
}
