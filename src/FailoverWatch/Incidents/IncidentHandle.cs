using System.Diagnostics;

namespace FailoverWatch.Incidents;

/// <summary>
/// An incident under way: each phase recorded with its time as it ends, saved in the state, and added as an event
/// of the incident's span. <see cref="None"/> records nothing (a failover finished after a restart has no incident
/// of this process). Phases may end concurrently (fence, hook, checkpoint).
/// </summary>
internal sealed class IncidentHandle
{
    private readonly IncidentRecorder? _recorder;
    private readonly Activity? _span;
    private readonly bool _ownSpan;
    private readonly Lock _gate = new();
    private Incident? _incident;

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

    /// <param name="at">When the phase began, for one timed by its start (promote); default now.</param>
    public Task PhaseAsync(string name, bool ok, string? detail, CancellationToken cancellationToken, DateTimeOffset? at = null)
    {
        if (_recorder is null)
        {
            return Task.CompletedTask;
        }

        var phase = new IncidentPhase(name, at ?? _recorder.Now, ok, detail);
        AddSpanEvent(phase);
        return ChangeAsync(i => i with { Phases = [.. i.Phases, phase] }, cancellationToken);
    }

    /// <summary>Records the phase when <paramref name="step"/> ends (true: it worked), and passes its result on.</summary>
    public async Task<bool> TrackAsync(string name, Task<bool> step, CancellationToken cancellationToken)
    {
        var ok = await step;
        await PhaseAsync(name, ok, ok ? null : "failed (see the log)", cancellationToken);
        return ok;
    }

    /// <summary>Records the phase when <paramref name="step"/> ends (null: it worked, else why not), and passes its result on.</summary>
    public async Task<string?> TrackAsync(string name, Task<string?> step, CancellationToken cancellationToken)
    {
        var error = await step;
        await PhaseAsync(name, error is null, error, cancellationToken);
        return error;
    }

    public async Task CloseAsync(string result, CancellationToken cancellationToken)
    {
        if (_recorder is null)
        {
            return;
        }

        await ChangeAsync(i => i with { Result = result }, cancellationToken);
        _recorder.LogClosed(Current());
        _span?.SetTag("failoverwatch.result", result);
        if (_ownSpan)
        {
            _span?.Dispose();
        }
    }

    private Task ChangeAsync(Func<Incident, Incident> change, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _incident = change(_incident!);
        }

        return _recorder!.SaveAsync(Current, cancellationToken);
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
