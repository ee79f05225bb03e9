using System.Globalization;
using System.Text;
using FailoverWatch.Monitoring;
using FailoverWatch.State;

namespace FailoverWatch.Failover;

/// <summary>
/// <c>failoverwatch explain</c>: replays an incident's recorded rounds through the pure <see cref="FailoverPolicy"/>,
/// with the settings it had, and says why each round decided what it did (and whether today's policy agrees).
/// </summary>
internal static class IncidentReplay
{
    public static IReadOnlyList<(IncidentRound Round, FailoverDecision Decision)> Replay(Incident incident) =>
        [.. incident.Rounds.Select(r => (r, FailoverPolicy.Decide(r.View(), r.State(), r.Health, incident.Settings, r.At, r.Quorum)))];

    public static string Explain(Incident incident)
    {
        var text = new StringBuilder();
        void Line(string line) => text.AppendLine(line);
        Line($"incident {incident.Id}: {incident.Kind}{Route(incident)}, {incident.Result ?? "under way"}");
        Line($"decision: {incident.Decision}: {incident.Reason}");
        Line("");
        foreach (var (round, decision) in Replay(incident))
        {
            Line($"round {round.At:HH:mm:ss.fff}  recorded primary {round.RecordedPrimary ?? "none"}{(round.Paused ? ", paused" : "")}; " +
                 $"{round.Health.ConsecutiveFailures} consecutive failed probe(s) of it");
            var view = round.View();
            foreach (var node in view.Nodes)
            {
                Line("  " + Describe(node));
            }

            if (round.Quorum is { } quorum)
            {
                Line($"  monitors: {quorum.Describe()}");
            }

            var agrees = decision.GetType().Name == round.Decision && decision.Reason == round.Reason;
            Line($"  => {decision.GetType().Name}: {decision.Reason}");
            if (!agrees)
            {
                Line($"     (recorded then: {round.Decision}: {round.Reason})");
            }
        }

        Line("");
        Line("phases:");
        foreach (var phase in incident.Phases)
        {
            Line(string.Create(CultureInfo.InvariantCulture, $"  {phase.Name,-10} {phase.At:HH:mm:ss.fff}  +{(phase.At - incident.At).TotalSeconds,7:0.000}s  {(phase.Ok ? "ok" : "FAILED")}{(phase.Seconds is { } took ? $" in {took:0.000}s" : "")}{(phase.Detail is null ? "" : ": " + phase.Detail)}"));
        }

        if (incident.Drill is { } drill)
        {
            Line($"canary: {drill.CanaryAcknowledged} acknowledged writes, {(drill.CanaryLost is { } lostWrites ? $"{lostWrites} lost" : "not counted")}");
            foreach (var window in drill.WritesRefused)
            {
                Line(string.Create(CultureInfo.InvariantCulture, $"writes refused {window.From:HH:mm:ss.fff} to {window.To:HH:mm:ss.fff} ({window.Seconds:0.000}s){(window.During is null ? "" : " during " + window.During)}"));
            }
        }

        if (incident.WalLostBytes is { } lost)
        {
            Line(string.Create(CultureInfo.InvariantCulture, $"WAL lost: {lost} bytes (the primary's last known position minus what {incident.To} held)"));
        }

        return text.ToString();
    }

    public static string Route(Incident incident) => (incident.From, incident.To) switch
    {
        (null, null) => "",
        (var from, var to) => $" {from ?? "?"} -> {to ?? "?"}",
    };

    private static string Describe(NodeStatus node)
    {
        var report = node.Report;
        if (report.Failure is { } failure)
        {
            return $"{node.Name}: unreachable ({failure})";
        }

        return report.Role == NodeRole.Standby
            ? string.Create(CultureInfo.InvariantCulture, $"{node.Name}: standby, {(node.IsStreaming ? "streaming" : $"not streaming ({report.WalReceiver?.Status ?? "no WAL receiver"})")}, received {report.HeldLsn}, {node.ReceiveLagBytes ?? 0} bytes behind")
            : $"{node.Name}: {report.Role.ToString().ToLowerInvariant()}{(report.Writable ? ", writable" : "")} at {report.CurrentLsn}";
    }
}
