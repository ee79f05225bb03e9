using FailoverWatch.Configuration;
using FailoverWatch.Processes;
using FailoverWatch.State;

namespace FailoverWatch.Failover;

/// <summary>
/// How long the decision being carried out has run, and whether it is past its bound. Every wait in a decision is
/// bounded, so one past the bound is a wait that is not (a bug, or a system call that never returns): it holds every
/// later decision, and <c>/healthz</c> and <c>failoverwatch_decision_running_seconds</c> show it rather than nothing.
/// </summary>
internal sealed class DecisionClock(FailoverWatchOptions options, TimeProvider time)
{
    private readonly Lock _gate = new();
    private long? _startedAt;

    /// <summary>
    /// The longest a failover may take: the state writes, pg_promote and the wait for writes, then the fence, hook
    /// and checkpoint side by side (each a command killed at hooks.timeout, which may take the kill's grace to go).
    /// </summary>
    public TimeSpan Bound { get; } =
        (options.Monitor.ProbeTimeout * 2) + options.Monitor.PromotionTimeout + options.Hooks.Timeout + ExternalProcess.KillGrace
        + (FailoverStateStore.WriteTimeout * 2 * StateWritesPerDecision);

    /// <summary>Beyond <see cref="Bound"/> before <c>/healthz</c> fails: a loaded machine may be late by a few rounds.</summary>
    public TimeSpan Margin { get; } = TimeSpan.FromSeconds(Math.Max(10, options.Monitor.ProbeInterval.TotalSeconds * 3));

    // A failover writes the state at most this often (started, promote sent, new primary, done, incident, position,
    // timeline), each waiting for the write before it and its own.
    private const int StateWritesPerDecision = 8;

    public TimeSpan Running
    {
        get
        {
            lock (_gate)
            {
                return _startedAt is { } started ? time.GetElapsedTime(started) : TimeSpan.Zero;
            }
        }
    }

    /// <summary>Why <c>/healthz</c> fails, or null while no decision runs past its bound plus the margin.</summary>
    public string? Overdue() => Running is var running && running > Bound + Margin
        ? $"a failover decision has run {running.TotalSeconds:0}s, past its bound of {Bound.TotalSeconds:0}s: a wait that never ends holds every later decision"
        : null;

    public void Start()
    {
        lock (_gate)
        {
            _startedAt = time.GetTimestamp();
        }
    }

    public void Stop()
    {
        lock (_gate)
        {
            _startedAt = null;
        }
    }
}
