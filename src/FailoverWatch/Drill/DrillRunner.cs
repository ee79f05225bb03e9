using FailoverWatch.Backup;
using FailoverWatch.Configuration;
using FailoverWatch.Incidents;
using FailoverWatch.State;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Drill;

/// <summary>
/// A switchover to the best standby and back, run by the host, while a canary writes throughout. It starts only on a
/// ready cluster (the doctor's checks pass, lag 0, no backup running, not paused) and stops at the first failing step,
/// then tries to put the old primary back in its role. A drill that started is an incident (kind <c>drill</c>) with
/// each step's time, the old primaries' rejoins, the canary's count and the write-refused windows.
/// </summary>
internal sealed class DrillRunner(FailoverWatchOptions options, IClusterControl control, IncidentRecorder incidents, TimeProvider time, ILogger logger)
{
    public const string ReadyPhase = "ready";
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a problem that passes by itself (lag, the host's first readiness check) may hold the start.</summary>
    private static readonly TimeSpan ReadyWait = TimeSpan.FromSeconds(30);

    /// <summary>The longest pause between two runs of the doctor's checks (a connection to every node each) while the start waits.</summary>
    private static readonly TimeSpan ReadyPollMax = TimeSpan.FromSeconds(5);

    private readonly List<DrillPhase> _phases = [];
    private IncidentHandle _incident = IncidentHandle.None;

    /// <summary>How long to wait for an old primary to stream again: the host's rejoin bound, and a retry after a failed run.</summary>
    private TimeSpan StreamWait => options.Monitor.RejoinTimeout + options.Monitor.RejoinRetry + TimeSpan.FromSeconds(30);

    /// <param name="trigger">Who asked, for the incident's reason: <c>POST /drill</c> or the schedule.</param>
    /// <param name="cancellationToken">The host's stopping token: a drill that started ends (roles put back) even when its client goes away.</param>
    public async Task<DrillReport> RunAsync(string trigger, CancellationToken cancellationToken)
    {
        string? from = null;
        string? to = null;
        if (await PhaseAsync(ReadyPhase, async () => (from, to) = await ReadyAsync(cancellationToken)) is { } notReady)
        {
            logger.DrillNotStarted(trigger, notReady);
            return new DrillReport(false, from, to, _phases, 0, null, [], null);
        }

        _incident = incidents.OpenPlanned(IncidentKinds.Drill, $"{trigger}: switchover from {from} to {to} and back, canary writes throughout", from, to);
        Record(_phases[0]);
        await using var canary = new CanaryWriter(options, time);
        int? lost = null;
        var passed = await PhaseAsync("canary_start", () => canary.StartAsync(cancellationToken)) is null
            && await PhaseAsync($"switchover_to_{to}", () => SwitchoverAsync(to!, cancellationToken)) is null
            && await PhaseAsync($"{from}_streams", () => WaitStreamingAsync(from!, cancellationToken)) is null
            && await PhaseAsync($"switchover_to_{from}", () => SwitchoverAsync(from!, cancellationToken)) is null
            && await PhaseAsync($"{to}_streams", () => WaitStreamingAsync(to!, cancellationToken)) is null;
        if (!passed)
        {
            await PhaseAsync($"put_back_{from}", () => PutBackAsync(from!, cancellationToken));
        }

        await PhaseAsync("canary_check", async () =>
        {
            lost = await canary.StopAndCountLostAsync(cancellationToken);
            if (lost != 0)
            {
                throw new DrillStepException($"{lost} of {canary.Acknowledged} acknowledged canary writes are not on the primary");
            }
        });
        passed = passed && lost == 0;
        IReadOnlyList<RefusedWindow> windows = [.. canary.RefusedWindows.Select(w => w with { During = _phases.LastOrDefault(p => p.StartedAt <= w.From)?.Name })];
        _incident.Drilled(new DrillOutcome(passed, canary.Acknowledged, lost, windows), cancellationToken);
        await _incident.CloseAsync(passed ? "passed" : "failed", cancellationToken);
        var id = _incident.Id;
        logger.DrillFinished(id ?? "", passed ? "passed" : "failed", canary.Acknowledged, lost?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "not counted", string.Join(", ", windows.Select(w => $"{w.Seconds:0.000} s during {w.During}")));
        return new DrillReport(passed, from, to, _phases, canary.Acknowledged, lost, windows, id);
    }

    /// <summary>The primary and the standby to switch to; waits a little for what passes by itself (lag 0 on a busy primary).</summary>
    private async Task<(string From, string To)> ReadyAsync(CancellationToken cancellationToken)
    {
        if (options.Backup is { } backup && BackupRunner.AnyRunning(backup.Destination))
        {
            throw new DrillStepException($"a backup is running in {backup.Destination}; run the drill when it has finished");
        }

        var started = time.GetTimestamp();
        var pause = Poll;
        while (true)
        {
            var status = await control.CheckAsync(cancellationToken);
            var problem = NotReady(status, out var target);
            if (problem is null)
            {
                return (status.Primary!, target!);
            }

            if (!PassesByItself(status) || time.GetElapsedTime(started) > ReadyWait)
            {
                throw new DrillStepException(problem);
            }

            // Backing off: a lag gone in a second is seen at once, one that lasts does not cost a burst of checks.
            await Task.Delay(pause, time, cancellationToken);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, ReadyPollMax.Ticks));
        }
    }

    /// <summary>Null when the drill may start, with the ready standby to switch to; else why not.</summary>
    internal static string? NotReady(ClusterSnapshot status, out string? target)
    {
        target = null;
        if (status.Paused)
        {
            return "the host is paused, and a paused host rejoins no old primary (failoverwatch resume first)";
        }

        if (status.Primary is null)
        {
            return "the host knows no primary";
        }

        if (status.Problems.Count > 0)
        {
            return "the doctor's checks fail: " + string.Join("; ", status.Problems);
        }

        if (status.Nodes.FirstOrDefault(n => n.Name != status.Primary && !status.StreamsCaughtUp(n.Name)) is { } behind)
        {
            return $"{behind.Name} is not a standby streaming with lag 0";
        }

        target = status.Ready.Where(r => r.Value).Select(r => r.Key).Order(StringComparer.Ordinal).FirstOrDefault();
        return target is null ? "no standby is ready for a switchover" : null;
    }

    /// <summary>
    /// Whether what keeps the drill from starting is worth waiting for: every standby streams and only its lag, or the
    /// host's first readiness check, is missing. A node down or a failing check does not pass in seconds; the drill says
    /// so at once.
    /// </summary>
    internal static bool PassesByItself(ClusterSnapshot status) =>
        !status.Paused
        && status.Primary is not null
        && (status.Problems.Count == 0 || status.Problems is [ClusterSnapshot.NoReadinessYet])
        && status.Nodes.All(n => n.Name == status.Primary || status.Streams(n.Name));

    private async Task SwitchoverAsync(string to, CancellationToken cancellationToken)
    {
        if (await control.SwitchoverAsync(to, _incident, cancellationToken) is { } refused)
        {
            throw new DrillStepException(refused);
        }
    }

    /// <summary>
    /// The host rejoins the old primary (rejoin_command); without it streaming there is nothing to switch back to. Its
    /// rejoin must have finished too: the node streams before the rejoin_command has seen it do so and ended.
    /// </summary>
    private async Task WaitStreamingAsync(string node, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (control.Status() is var status && (!status.Streams(node) || status.Rejoining.Contains(node)))
        {
            if (status.Paused)
            {
                throw new DrillStepException($"the host was paused, so it does not rejoin {node}; resume it, and {node} rejoins");
            }

            if (time.GetElapsedTime(started) > StreamWait)
            {
                throw new DrillStepException($"{node} did not stream from the new primary, its rejoin finished, within {StreamWait.TotalSeconds:0} s: is its rejoin_command set, and did it run (log, `failoverwatch incidents`)?");
            }

            await Task.Delay(Poll, time, cancellationToken);
        }
    }

    private async Task PutBackAsync(string primary, CancellationToken cancellationToken)
    {
        if (control.Status().Primary == primary)
        {
            return;
        }

        await WaitStreamingAsync(primary, cancellationToken);
        await SwitchoverAsync(primary, cancellationToken);
    }

    /// <summary>Runs one step, records its time; returns null when it worked, else the reason it did not.</summary>
    private async Task<string?> PhaseAsync(string name, Func<Task> step)
    {
        var started = time.GetUtcNow();
        var clock = time.GetTimestamp();
        logger.DrillStep(name);
        string? error = null;
        try
        {
            await step();
        }
        catch (Exception e) when (e is DrillStepException or Npgsql.NpgsqlException or TimeoutException)
        {
            error = e.Message;
        }

        var seconds = Math.Round(time.GetElapsedTime(clock).TotalSeconds, 3);
        var phase = new DrillPhase(name, started, seconds, error is null, error);
        _phases.Add(phase);
        if (error is null)
        {
            logger.DrillStepDone(name, seconds);
        }
        else
        {
            logger.DrillStepFailed(name, seconds, error);
        }

        Record(phase);
        return error;
    }

    // Not the host's stopping token: a step that happened is saved even while the host stops.
    private void Record(DrillPhase phase) =>
        _incident.Phase(phase.Name, phase.Ok, phase.Error, CancellationToken.None, phase.StartedAt, phase.Seconds);
}

/// <summary>A drill step that did not work, with what the operator should know.</summary>
internal sealed class DrillStepException(string message) : Exception(message);
