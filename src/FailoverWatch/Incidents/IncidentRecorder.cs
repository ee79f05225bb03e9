using System.Diagnostics;
using System.Globalization;
using FailoverWatch.Configuration;
using FailoverWatch.Logging;
using FailoverWatch.Monitoring;
using FailoverWatch.State;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Incidents;

/// <summary>
/// Turns what the coordinator decides and does into incident records in the state (the last 50). The coordinator
/// shows it every round (<see cref="Observe"/>) and opens an incident when an episode starts; the handle records
/// each phase as it ends. Recording is best effort: a state it cannot write is logged, never in a failover's way.
/// </summary>
internal sealed class IncidentRecorder
{
    private readonly FailoverWatchOptions _options;
    private readonly IClusterStateStore _store;
    private readonly FailoverWatchMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<IncidentRecorder> _logger;
    private readonly Queue<IncidentRound> _rounds = new();
    private readonly int _roundsKept;

    public IncidentRecorder(FailoverWatchOptions options, IClusterStateStore store, FailoverWatchMetrics metrics, TimeProvider time, ILogger<IncidentRecorder> logger)
    {
        (_options, _store, _metrics, _time, _logger) = (options, store, metrics, time, logger);
        _roundsKept = Math.Max(5, options.Monitor.FailureThreshold + 2);
        foreach (var kind in IncidentKinds.All)
        {
            metrics.Incidents.Touch(options.Cluster.Name, kind);
        }
    }

    /// <summary>Keeps the last few rounds, each with everything the policy was given (the monitors' votes too), for the next incident.</summary>
    public void Observe(ClusterView view, FailoverState state, PrimaryHealth health, FailoverDecision decision, MonitorQuorum quorum)
    {
        _rounds.Enqueue(new IncidentRound(
            view.At, [.. view.Nodes.Select(n => n.Report)], view.PrimaryLsn?.ToString(), state.Primary, state.Paused, state.InProgress, health, decision.GetType().Name, decision.Reason, quorum.Votes ? quorum : null));
        while (_rounds.Count > _roundsKept)
        {
            _rounds.Dequeue();
        }
    }

    /// <summary>An incident with nothing more to carry out (held, refused, adopted): recorded whole at once.</summary>
    public Task RecordAsync(string kind, FailoverDecision decision, string? from, string? to, CancellationToken cancellationToken) =>
        Open(kind, decision, from, to, walLostBytes: null).CloseAsync("recorded", cancellationToken);

    /// <summary>
    /// Starts an incident with its detected and decided phases; the handle takes the rest. Nothing is written yet,
    /// so opening costs a failover no time: the first phase that ends saves it.
    /// </summary>
    public IncidentHandle Open(string kind, FailoverDecision decision, string? from, string? to, long? walLostBytes)
    {
        var now = _time.GetUtcNow();
        var rounds = _rounds.ToList();
        var incident = new Incident
        {
            Id = NewId(now, kind),
            Kind = kind,
            Decision = decision.GetType().Name,
            Reason = decision.Reason,
            From = from,
            To = to,
            WalLostBytes = walLostBytes,
            Rounds = rounds,
            Settings = FailoverPolicySettings.From(_options),
            Phases = [new(IncidentPhases.Detected, DetectedAt(rounds, now), true, null), new(IncidentPhases.Decided, now, true, null)],
        };
        _metrics.Incidents.Inc(_options.Cluster.Name, kind);
        _logger.IncidentOpened(incident.Id, decision.Reason);
        // The phases go on the span of what is being done (failover, split brain) as events; an incident with no
        // such span (held, refused, adopted) gets one of its own.
        var span = Activity.Current;
        var ownSpan = span is null;
        span ??= FailoverWatchActivity.Source.StartActivity("incident " + kind);
        span?.SetTag("failoverwatch.incident", incident.Id);
        return new IncidentHandle(this, incident, span, ownSpan);
    }

    /// <summary>
    /// An incident the host starts itself (a drill): no failing rounds led to it, so it has none to replay, and its
    /// phases are the steps it times. Saved with its first phase.
    /// </summary>
    public IncidentHandle OpenPlanned(string kind, string reason, string? from, string? to)
    {
        var incident = new Incident
        {
            Id = NewId(_time.GetUtcNow(), kind),
            Kind = kind,
            Decision = kind,
            Reason = reason,
            From = from,
            To = to,
            Settings = FailoverPolicySettings.From(_options),
        };
        _metrics.Incidents.Inc(_options.Cluster.Name, kind);
        _logger.IncidentOpened(incident.Id, reason);
        return new IncidentHandle(this, incident, FailoverWatchActivity.Source.StartActivity("incident " + kind), ownSpan: true);
    }

    private static string NewId(DateTimeOffset now, string kind) => now.ToString("yyyyMMdd'T'HHmmss.fff'Z'", CultureInfo.InvariantCulture) + "-" + kind;

    /// <summary>
    /// When the trouble began: the oldest of the consecutive rounds, up to the deciding one, without exactly one
    /// writable node that is the recorded primary (or, with none recorded yet, any). Without such a round, the decision.
    /// </summary>
    private static DateTimeOffset DetectedAt(IReadOnlyList<IncidentRound> rounds, DateTimeOffset decided)
    {
        var detected = decided;
        for (var i = rounds.Count - 1; i >= 0; i--)
        {
            var view = rounds[i].View();
            var healthy = view.Primaries.Count == 1 && (rounds[i].RecordedPrimary ?? view.Primaries[0].Name) == view.Primaries[0].Name;
            if (healthy)
            {
                break;
            }

            detected = rounds[i].At;
        }

        return detected;
    }

    /// <summary>Puts the incident in the state, replacing its earlier version; keeps the last <see cref="Incident.Kept"/>.</summary>
    /// <param name="latest">Read inside the state's update, so of two phases saved at once the later write carries both.</param>
    internal async Task SaveAsync(Func<Incident> latest, CancellationToken cancellationToken)
    {
        var id = latest().Id;
        try
        {
            await _store.UpdateAsync(
                s =>
                {
                    var incident = latest();
                    IReadOnlyList<Incident> incidents = s.Incidents.Any(i => i.Id == incident.Id)
                        ? [.. s.Incidents.Select(i => i.Id == incident.Id ? incident : i)]
                        : [.. s.Incidents, incident];
                    return s with { Incidents = [.. incidents.TakeLast(Incident.Kept)] };
                },
                cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.IncidentNotSaved(id, e.Message);
        }
    }

    internal void LogClosed(Incident incident) =>
        _logger.IncidentClosed(incident.Id, incident.Result ?? "", string.Join(", ", incident.Phases.Select(p => $"{p.Name}{(p.Ok ? "" : " FAILED")} +{(p.At - incident.At).TotalSeconds:0.000}s")));

    internal DateTimeOffset Now => _time.GetUtcNow();
}
