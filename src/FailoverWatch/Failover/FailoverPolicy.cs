using FailoverWatch.Monitoring;
using FailoverWatch.State;

namespace FailoverWatch.Failover;

/// <summary>
/// Turns one round's view of the cluster, the recorded state and the time into a decision. Pure: no I/O,
/// no clock of its own. A flat list of questions, each answered by one method, the first answer wins
/// (the shape of Patroni's <c>_run_cycle</c>).
/// </summary>
internal static class FailoverPolicy
{
    /// <param name="quorum">What the live monitors see of the primary; with several, a majority that sees it down outweighs a standby that still streams, and no majority holds the failover.</param>
    public static FailoverDecision Decide(ClusterView view, FailoverState state, PrimaryHealth health, FailoverPolicySettings settings, DateTimeOffset now, MonitorQuorum? quorum = null)
    {
        var decision = DecideActive(view, state, health, settings, now, quorum ?? MonitorQuorum.Alone);

        // Paused, nothing that touches a server or changes the recorded primary starts (an operator may be working by
        // hand); a split brain is still announced, its fence held by the guard. Promotion is held below, with the rest.
        return state.Paused && state.Primary is not null && decision is AdoptPrimary or AdoptWritable or CompleteInterruptedFailover
            ? new HoldFailover("paused", $"automatic actions are paused; not acting on: {decision.Reason}")
            : decision;
    }

    private static FailoverDecision DecideActive(ClusterView view, FailoverState state, PrimaryHealth health, FailoverPolicySettings settings, DateTimeOffset now, MonitorQuorum quorum)
    {

        // Two writable nodes come first, whatever else is under way: every round with both is a round of lost writes.
        var primaries = view.Primaries;
        if (primaries.Count > 1)
        {
            return SplitBrain(primaries, state, settings);
        }

        if (state.InProgress is { } interrupted)
        {
            return ResumeInterrupted(view, interrupted, settings, now);
        }

        var recorded = view.Find(state.Primary);
        if (recorded is null)
        {
            // A first start whose primary died before any leader recorded it: the monitors that saw it writable say which
            // it was, and it is recorded (no more) so the rules below fail it over as any primary.
            return primaries.Count == 1
                ? new AdoptPrimary(primaries[0].Name, $"{primaries[0].Name} is the only writable node; recording it as primary")
                : state.Primary is null && quorum.LastWritable is { } seen && view.Find(seen) is { Report.Reachable: false }
                ? new AdoptPrimary(seen, $"no primary recorded yet and no node writable; {seen}, which does not answer, is the node the live monitors last saw as the only writable one: recording it as primary")
                : new NoAction("no primary recorded and no writable node seen yet");
        }

        if (recorded.IsReachablePrimary)
        {
            return quorum.MajoritySeesPrimaryDown
                ? WhyNotFailOver(view, state, health, settings, now, recorded.Name, quorum) ?? SwitchAway(view, recorded.Name, settings, quorum)
                : new NoAction($"primary {recorded.Name} is healthy");
        }

        if (recorded.Report.Reachable)
        {
            // The recorded primary answers as a standby: someone changed roles by hand.
            if (primaries.Count == 1 && !PrimaryLineage.Descends(primaries[0], state))
            {
                return new ResolveSplitBrain(recorded.Name, [primaries[0].Name], $"{recorded.Name} is now a standby and {primaries[0].Name} is writable, but {PrimaryLineage.Describe(primaries[0], state)}: fencing it, never adopting it");
            }

            return primaries.Count == 1
                ? new AdoptPrimary(primaries[0].Name, $"{recorded.Name} is now a standby and {primaries[0].Name} is the only writable node")
                : new NoAction($"recorded primary {recorded.Name} is in recovery and no node is writable; not acting on a role change made by hand");
        }

        if (health.ConsecutiveFailures < settings.FailureThreshold && !quorum.MajoritySeesPrimaryDown)
        {
            return new NoAction($"primary {recorded.Name} failed {health.ConsecutiveFailures} of {settings.FailureThreshold} probes ({recorded.Report.Failure})");
        }

        // With several monitors, one that alone loses the primary may be the one cut off: neither promote nor fence on its word.
        if (quorum.Votes && !quorum.MajoritySeesPrimaryDown)
        {
            return new HoldFailover(
                "no_quorum",
                $"not failing over: primary {recorded.Name} failed {health.ConsecutiveFailures} probes here, but only {quorum.Describe()}; this monitor may be the one cut off");
        }

        // Never promote while a node is writable: one already took over (promoted by hand, a promotion that
        // outlived its wait, a switchover cut short). It is the primary now; the dead one is fenced.
        if (primaries.Count == 1 && state.Timelines.Count == 0 && state.LastFailover is { } last && last.To == recorded.Name && last.From == primaries[0].Name)
        {
            // The old primary this one replaced, back and writable on its old timeline: adopting it would hand
            // clients stale data and drop what was written since. It is fenced; a standby may be promoted next.
            // (Without recorded timelines; with them, the lineage below tells this and more.)
            return new ResolveSplitBrain(
                recorded.Name,
                [primaries[0].Name],
                $"{primaries[0].Name} is writable, but it is the old primary {recorded.Name} replaced at {last.At:O}; primary {recorded.Name} is down: fencing {primaries[0].Name}, never adopting it back");
        }

        // The same for one replaced any number of failovers before: its timeline shows it. One rejoined since and
        // promoted by hand is on a later timeline, and adopted.
        if (primaries.Count == 1 && !PrimaryLineage.Descends(primaries[0], state))
        {
            return new ResolveSplitBrain(
                recorded.Name,
                [primaries[0].Name],
                $"{primaries[0].Name} is writable, but {PrimaryLineage.Describe(primaries[0], state)}; primary {recorded.Name} is down: fencing {primaries[0].Name}, never adopting it back");
        }

        if (primaries.Count == 1)
        {
            return new AdoptWritable(
                primaries[0].Name,
                recorded.Name,
                $"primary {recorded.Name} failed {health.ConsecutiveFailures} probes in a row and {primaries[0].Name} is writable: adopting {primaries[0].Name}, fencing {recorded.Name}");
        }

        return WhyNotFailOver(view, state, health, settings, now, recorded.Name, quorum)
            ?? ChooseStandby(view, state, recorded.Name, settings, quorum);
    }

    private static FailoverDecision ResumeInterrupted(ClusterView view, FailoverInProgress failover, FailoverPolicySettings settings, DateTimeOffset now)
    {
        var target = view.Find(failover.To);
        if (target is { IsReachablePrimary: true })
        {
            return new CompleteInterruptedFailover(failover, $"failover from {failover.From} to {failover.To} was under way and {failover.To} is writable: finishing it");
        }

        if (failover.PromoteSentAt is { } sent)
        {
            // A slow promotion is not a failed one: the target may be replaying a long backlog before it opens for writes.
            var waited = now - sent;
            return waited < settings.PromotionTimeout
                ? new NoAction($"pg_promote was sent to {failover.To} {waited.TotalSeconds:0}s ago; waiting up to {settings.PromotionTimeout.TotalSeconds:0}s (monitor.promotion_timeout) for it to finish recovery: {Backlog(target)}")
                : new AbandonInterruptedFailover(failover, $"{failover.To} did not become writable within {settings.PromotionTimeout.TotalSeconds:0}s (monitor.promotion_timeout) of pg_promote: the promotion failed ({Backlog(target)})");
        }

        if (target is { Report.Reachable: false })
        {
            return new NoAction($"failover from {failover.From} to {failover.To} was under way; waiting to see {failover.To} before finishing or abandoning it");
        }

        return new AbandonInterruptedFailover(failover, $"failover from {failover.From} to {failover.To} was under way but {failover.To} is not writable: abandoning it, deciding afresh");
    }

    /// <summary>What a promoting standby still has to do, in words for the log.</summary>
    internal static string Backlog(NodeStatus? target) => target switch
    {
        null or { Report.Reachable: false } => "it does not answer",
        { Report: { ReceiveLsn: { } received, ReplayLsn: { } replayed } } => $"{received.BytesAhead(replayed)} bytes of received WAL left to replay (at {replayed}, received {received})",
        _ => "it is still in recovery",
    };

    private static ResolveSplitBrain SplitBrain(IReadOnlyList<NodeStatus> primaries, FailoverState state, FailoverPolicySettings settings)
    {
        // Keep the target of a failover under way (promoted on purpose), else the recorded primary (the one clients
        // were sent to); without either, the newest timeline, then config order. A returning old primary is never kept.
        var keep = primaries.FirstOrDefault(p => p.Name == state.InProgress?.To)
            ?? primaries.FirstOrDefault(p => p.Name == state.Primary)
            ?? primaries.OrderByDescending(p => p.Report.Timeline ?? 0).ThenBy(p => OrderOf(p.Name, settings)).First();
        var fence = primaries.Where(p => p != keep).Select(p => p.Name).ToList();
        return new ResolveSplitBrain(
            keep.Name,
            fence,
            $"split brain: {primaries.Count} writable nodes ({string.Join(", ", primaries.Select(p => p.Name))}); keeping {keep.Name}, fencing {string.Join(", ", fence)}");
    }

    private static HoldFailover? WhyNotFailOver(ClusterView view, FailoverState state, PrimaryHealth health, FailoverPolicySettings settings, DateTimeOffset now, string primary, MonitorQuorum quorum)
    {
        if (!settings.AutoFailover)
        {
            return new HoldFailover("disabled", $"primary {primary} is down but auto_failover is off");
        }

        if (state.Paused)
        {
            return new HoldFailover("paused", $"primary {primary} is down but automatic failover is paused");
        }

        // repmgr's visibility check: a standby still streaming from a primary the monitor cannot reach proves
        // the primary is alive and only the monitor is cut off. A primary that answers but cannot commit
        // (write probe) is seen directly, so streaming proves nothing about it. Nor does a cascaded standby
        // streaming from another standby; a sender we cannot place (a VIP, a hostname) still counts, to be safe.
        var monitorCutOff = view.Find(primary)?.Report.Failure?.Kind != ProbeFailureKind.WriteFailed;
        var stillStreaming = view.Nodes
            .Where(n => n.IsStreaming && !settings.Nodes.Any(other => other.Name != primary && other.Is(n.Report.WalReceiver)))
            .Select(n => n.Name)
            .ToList();
        // A majority of monitors that see it down (placed beside the application) is stronger evidence than a
        // standby that still says "streaming": a hung primary keeps that up until wal_receiver_timeout (60s by default).
        if (monitorCutOff && stillStreaming.Count > 0 && !quorum.MajoritySeesPrimaryDown)
        {
            return new HoldFailover(
                "standby_streaming",
                $"not failing over: primary {primary} does not answer the monitor, but {string.Join(", ", stillStreaming)} still streams WAL from it");
        }

        if (state.PromotionPending is { } pending && pending != primary)
        {
            return new HoldFailover("promotion_pending", $"primary {primary} is down, but pg_promote was sent to {pending} and it may still turn writable; no other standby is promoted until a fence of {pending} works");
        }

        if (health.LastFailedPromotionAt is { } failedAt && now - failedAt < settings.RetryAfterFailedPromotion)
        {
            return new HoldFailover("retry_wait", $"a promotion failed at {failedAt:O}; retrying after {settings.RetryAfterFailedPromotion.TotalSeconds:0}s");
        }

        return view.Nodes.Any(n => n.IsReachableStandby)
            ? null
            : new HoldFailover("no_standby", $"primary {primary} is down and no standby answers");
    }

    private static FailoverDecision ChooseStandby(ClusterView view, FailoverState state, string primary, FailoverPolicySettings settings, MonitorQuorum quorum)
    {
        if (state.Replication.Standbys is { Count: > 0 } synchronous)
        {
            return ChooseSynchronousStandby(view, synchronous, primary, settings, quorum);
        }

        var best = view.Nodes
            .Where(n => n.IsReachableStandby)
            .OrderByDescending(n => n.Report.HeldLsn?.Value ?? 0)
            .ThenBy(n => OrderOf(n.Name, settings))
            .First();
        // Without the primary's last position (never seen healthy by this monitor, none saved) a standby's lag is
        // unknown, not zero: promoting it could lose any amount of committed WAL.
        if (view.PrimaryLsn is null || best.ReceiveLagBytes is not { } lag)
        {
            return new HoldFailover(
                "unknown_position",
                $"not promoting {best.Name}: the primary {primary}'s last WAL position is unknown (never seen healthy since the state file was made), so what {best.Name} lacks cannot be measured; promote by hand if that loss is acceptable, the monitor adopts it");
        }

        if (lag > settings.MaxLagOnFailoverBytes)
        {
            return new RefuseLag(
                best.Name,
                lag,
                settings.MaxLagOnFailoverBytes,
                $"not promoting {best.Name}: it has received WAL up to {best.Report.HeldLsn}, {lag} bytes behind the primary's last known position {view.PrimaryLsn}, above max_lag_on_failover {settings.MaxLagOnFailoverBytes} bytes; that WAL would be lost");
        }

        return new Promote(
            best.Name,
            primary,
            WhyDown(primary, settings, quorum)
            + $"; promoting {best.Name} (received {best.Report.HeldLsn}, {lag} bytes behind)");
    }

    /// <summary>The leader reaches the primary, the majority does not: a switchover to the most advanced streaming standby.</summary>
    private static FailoverDecision SwitchAway(ClusterView view, string primary, FailoverPolicySettings settings, MonitorQuorum quorum)
    {
        var target = view.Nodes
            .Where(n => n.IsReachableStandby && n.IsStreaming)
            .OrderByDescending(n => n.Report.HeldLsn?.Value ?? 0)
            .ThenBy(n => OrderOf(n.Name, settings))
            .FirstOrDefault();
        return target is null
            ? new HoldFailover("no_standby", $"primary {primary} answers this monitor but not the others ({quorum.Describe()}), and no standby streams from it to switch over to")
            : new QuorumSwitchover(
                target.Name,
                primary,
                $"primary {primary} answers this monitor, but {quorum.Describe()}: the quorum decides; switching over to {target.Name} (stop {primary}, let {target.Name} replay all it wrote, promote), nothing lost");
    }

    /// <summary>
    /// A recorded synchronous standby holds every acknowledged commit; any other may lack some. What it lacks of the
    /// primary's WAL was never acknowledged (commits that waited on it), so neither max_lag_on_failover nor an unknown
    /// position holds it back.
    /// </summary>
    private static FailoverDecision ChooseSynchronousStandby(ClusterView view, IReadOnlyList<string> synchronous, string primary, FailoverPolicySettings settings, MonitorQuorum quorum)
    {
        var best = view.Nodes
            .Where(n => n.IsReachableStandby && synchronous.Contains(n.Name))
            .OrderByDescending(n => n.Report.HeldLsn?.Value ?? 0)
            .ThenBy(n => OrderOf(n.Name, settings))
            .FirstOrDefault();
        if (best is null)
        {
            return new HoldFailover(
                "sync_standby_unreachable",
                $"not failing over: primary {primary} is down, and {string.Join(", ", synchronous)}, recorded as holding every acknowledged commit, does not answer as a standby; promoting another could lose acknowledged commits");
        }

        return new Promote(
            best.Name,
            primary,
            WhyDown(primary, settings, quorum)
            + $"; promoting {best.Name}, a recorded synchronous standby holding every acknowledged commit (received {best.Report.HeldLsn}{(best.ReceiveLagBytes is { } lag ? $", {lag} bytes of unacknowledged WAL behind" : "")})");
    }

    private static string WhyDown(string primary, FailoverPolicySettings settings, MonitorQuorum quorum) =>
        quorum.MajoritySeesPrimaryDown
            ? $"primary {primary} is down: {quorum.Describe()} for {settings.FailureThreshold} probes in a row"
            : $"primary {primary} failed {settings.FailureThreshold} probes in a row and no standby hears it";

    private static int OrderOf(string node, FailoverPolicySettings settings)
    {
        for (var index = 0; index < settings.Nodes.Count; index++)
        {
            if (settings.Nodes[index].Name == node)
            {
                return index;
            }
        }

        return int.MaxValue;
    }
}
