using FailoverWatch.State;
using System.Diagnostics;

namespace FailoverWatch.Incidents;

/// <summary>
/// An incident under way: each phase recorded with its time as it ends, and added as an event of the incident's
/// span. Saving into the state runs behind, never in a failover's way (a state write is an fsync); closing waits for it. <see cref="None"/> records nothing (a failover finished after a restart has no incident
/// of this process). Phases may end concurrently (fence, hook, checkpoint).
/// </summary>
internal sealed class IncidentHandle
{
    private readonly IncidentRecorder? _recorder;
    private readonly Activity? _span;
    private readonly bool _ownSpan;
    private readonly Lock _gate = new();
    private Incident? _incident;
    private Task _saving = Task.CompletedTask;

    /// <param name="ownSpan">The span is the incident's own, ended with it; else it belongs to the caller.</param>
    internal IncidentHandle(IncidentRecorder? recorder, Incident? incident, Activity? span, bool ownSpan)
    {
        (_recorder, _incident, _span, _ownSpan) = (recorder, incident, span, ownSpan);
        foreach (var phase in incident?.Phases ?? [])
        {
            AddSpanEvent(phase);
        }
    }

    public static IncidentHandle None { get; } = new(null, null, null, ownSpan: false);

    /// <summary>The incident's id (<c>FW_INCIDENT</c>), or null for <see cref="None"/>.</summary>
    public string? Id => _recorder is null ? null : Current().Id;

    /// <summary>A rejoin that ended, even long after the incident closed: its phase and, when it worked, its records.</summary>
    public void Rejoined(string node, bool ok, string? detail, IncidentRejoin? rejoin, SalvageRecord? salvage, CancellationToken cancellationToken)
    {
        Phase(IncidentPhases.Rejoin, ok, ok ? node : $"{node}: {detail}", cancellationToken);
        if (ok && _recorder is not null)
        {
            Change(i => i with { Rejoin = rejoin, Salvage = salvage }, cancellationToken);
        }
    }

    /// <summary>A drill that ended: its canary and write-refused windows beside the phases.</summary>
    public void Drilled(DrillOutcome outcome, CancellationToken cancellationToken)
    {
        if (_recorder is not null)
        {
            Change(i => i with { Drill = outcome }, cancellationToken);
        }
    }

    /// <param name="at">When the phase began, for one timed by its start (promote); default now.</param>
    /// <param name="seconds">How long a step timed from <paramref name="at"/> took (a drill's).</param>
    public void Phase(string name, bool ok, string? detail, CancellationToken cancellationToken, DateTimeOffset? at = null, double? seconds = null)
    {
        if (_recorder is null)
        {
            return;
        }

        var phase = new IncidentPhase(name, at ?? _recorder.Now, ok, detail) { Seconds = seconds };
        AddSpanEvent(phase);
        Change(i => i with { Phases = [.. i.Phases, phase] }, cancellationToken);
    }

    /// <summary>Records the phase when <paramref name="step"/> ends (true: it worked), and passes its result on.</summary>
    public async Task<bool> TrackAsync(string name, Task<bool> step, CancellationToken cancellationToken)
    {
        var ok = await step;
        Phase(name, ok, ok ? null : "failed (see the log)", cancellationToken);
        return ok;
    }

    /// <summary>Records the phase when <paramref name="step"/> ends (null: it worked, else why not), and passes its result on.</summary>
    public async Task<string?> TrackAsync(string name, Task<string?> step, CancellationToken cancellationToken)
    {
        var error = await step;
        Phase(name, error is null, error, cancellationToken);
        return error;
    }

    public async Task CloseAsync(string result, CancellationToken cancellationToken)
    {
        if (_recorder is null)
        {
            return;
        }

        Change(i => i with { Result = result }, cancellationToken);
        Task saving;
        lock (_gate)
        {
            saving = _saving;
        }

        await saving;
        _recorder.LogClosed(Current());
        _span?.SetTag("failoverwatch.result", result);
        if (_ownSpan)
        {
            _span?.Dispose();
        }
    }

    /// <summary>Changes the record now; the save (of whatever is latest when it runs) follows the earlier ones.</summary>
    private void Change(Func<Incident, Incident> change, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _incident = change(_incident!);
            _saving = _saving.ContinueWith(_ => _recorder!.SaveAsync(Current, cancellationToken), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    private Incident Current()
    {
        lock (_gate)
        {
            return _incident!;
        }
    }

    private void AddSpanEvent(IncidentPhase phase) =>
        _span?.AddEvent(new ActivityEvent(phase.Name, phase.At, new ActivityTagsCollection { ["ok"] = phase.Ok, ["detail"] = phase.Detail }));
}
