using FailoverWatch.Backup;
using FailoverWatch.Configuration;

namespace FailoverWatch.Drill;

/// <summary>
/// A switchover to the best standby and back through the running host, while a canary writes throughout. It starts
/// only on a ready cluster (the doctor's checks pass, lag 0, no backup running) and stops at the first failing step,
/// then tries to put the old primary back in its role.
/// </summary>
internal sealed class DrillRunner(FailoverWatchOptions options, ClusterControl control, TimeProvider time, TextWriter progress)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan ReadyWait = TimeSpan.FromSeconds(30);

    private readonly List<DrillPhase> _phases = [];

    /// <summary>How long to wait for an old primary to stream again: the host's rejoin bound, and a retry after a failed run.</summary>
    private TimeSpan StreamWait => options.Monitor.RejoinTimeout + options.Monitor.RejoinRetry + TimeSpan.FromSeconds(30);

    public async Task<DrillReport> RunAsync(CancellationToken cancellationToken)
    {
        string? from = null;
        string? to = null;
        if (await PhaseAsync("ready", async () => (from, to) = await ReadyAsync(cancellationToken)) is not null)
        {
            return new DrillReport(false, from, to, _phases, 0, null, []);
        }

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
        return new DrillReport(passed && lost == 0, from, to, _phases, canary.Acknowledged, lost, canary.RefusedWindows);
    }

    /// <summary>The primary and the standby to switch to; waits a little for lag 0, since a busy primary is rarely idle.</summary>
    private async Task<(string From, string To)> ReadyAsync(CancellationToken cancellationToken)
    {
        if (options.Backup is { } backup && BackupRunner.AnyRunning(backup.Destination))
        {
            throw new DrillStepException($"a backup is running in {backup.Destination}; run the drill when it has finished");
        }

        var deadline = time.GetUtcNow() + ReadyWait;
        while (true)
        {
            var status = await control.StatusAsync(cancellationToken);
            var problem = NotReady(status, out var target);
            if (problem is null)
            {
                return (status.Primary!, target!);
            }

            if (time.GetUtcNow() > deadline)
            {
                throw new DrillStepException(problem);
            }

            await Task.Delay(Poll, time, cancellationToken);
        }
    }

    /// <summary>Null when the drill may start, with the ready standby to switch to; else why not.</summary>
    internal static string? NotReady(ClusterSnapshot status, out string? target)
    {
        target = null;
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

    private async Task SwitchoverAsync(string to, CancellationToken cancellationToken)
    {
        if (await control.SwitchoverAsync(to, cancellationToken) is { } refused)
        {
            throw new DrillStepException(refused);
        }
    }

    /// <summary>The host rejoins the old primary (rejoin_command); without it streaming there is nothing to switch back to.</summary>
    private async Task WaitStreamingAsync(string node, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + StreamWait;
        while (!(await control.StatusAsync(cancellationToken)).Streams(node))
        {
            if (time.GetUtcNow() > deadline)
            {
                throw new DrillStepException($"{node} did not stream from the new primary within {StreamWait.TotalSeconds:0} s: is its rejoin_command set, and did it run (log, `failoverwatch incidents`)?");
            }

            await Task.Delay(Poll, time, cancellationToken);
        }
    }

    private async Task PutBackAsync(string primary, CancellationToken cancellationToken)
    {
        var status = await control.StatusAsync(cancellationToken);
        if (status.Primary == primary)
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
        progress.WriteLine($"drill: {name}...");
        string? error = null;
        try
        {
            await step();
        }
        catch (Exception e) when (e is DrillStepException or HttpRequestException or Npgsql.NpgsqlException or TimeoutException or TaskCanceledException { InnerException: TimeoutException })
        {
            // An HttpClient timeout is a cancellation; the operator's Ctrl-C is not caught here.
            error = e.Message;
        }

        _phases.Add(new DrillPhase(name, started, Math.Round(time.GetElapsedTime(clock).TotalSeconds, 3), error is null, error));
        progress.WriteLine(error is null ? $"drill: {name} done in {time.GetElapsedTime(clock).TotalSeconds:0.0} s" : $"drill: {name} FAILED: {error}");
        return error;
    }
}

/// <summary>A drill step that did not work, with what the operator should know.</summary>
internal sealed class DrillStepException(string message) : Exception(message);
