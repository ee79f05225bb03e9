using System.Globalization;
using System.Text;

namespace FailoverWatch.Soak;

/// <summary>The soak's table: one row per fault type, then every violation with its evidence folder.</summary>
internal static class SoakReport
{
    public static string Render(IReadOnlyList<RoundResult> rounds, IReadOnlyList<string> errors, string header)
    {
        var text = new StringBuilder();
        text.AppendLine(header).AppendLine();
        text.AppendLine("| fault | mode | rounds (3-node) | failovers | failover s median / p95 / max | settled s max | two streaming s median / max | lost writes | salvaged commits | lost WAL bytes | split-brain writes | violations |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var group in rounds.GroupBy(r => (r.Fault, r.Sync)).OrderBy(g => g.Key.Fault).ThenBy(g => g.Key.Sync))
        {
            text.AppendLine(Row(group.Key.Fault.Name(), SyncRounds.Name(group.Key.Sync), [.. group]));
        }

        foreach (var mode in rounds.GroupBy(r => r.Sync).OrderBy(g => g.Key).Where(_ => rounds.Select(r => r.Sync).Distinct().Count() > 1))
        {
            text.AppendLine(Row("**all**", SyncRounds.Name(mode.Key), [.. mode]));
        }

        text.AppendLine(Row("**all**", string.Join("+", rounds.Select(r => SyncRounds.Name(r.Sync)).Distinct().Order()), rounds));
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Rounds: {rounds.Count}; acknowledged writes: {rounds.Sum(r => r.Acks)}; soak errors (rounds that could not run): {errors.Count}.");
        if (rounds.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Load average (1 min, as each round ended): mean {rounds.Average(r => r.LoadAverage):0.0}, max {rounds.Max(r => r.LoadAverage):0.0}. Synchronous rounds degraded before their fault (asynchronous rules applied): {rounds.Count(r => r.DegradedBeforeFault)}.");
        }

        foreach (var round in rounds.Where(r => r.Violations.Count > 0))
        {
            foreach (var violation in round.Violations)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- VIOLATION round {round.Number} ({round.Fault.Name()}, {round.NodeCount} nodes; {round.Notes}): {violation} [evidence: {round.Evidence}]");
            }
        }

        foreach (var error in errors)
        {
            text.AppendLine("- SOAK ERROR " + error);
        }

        return text.ToString();
    }

    private static string Row(string name, string mode, IReadOnlyList<RoundResult> rounds)
    {
        var streaming = rounds.Where(r => r.Rejoin.StreamingAfterSeconds is not null).Select(r => r.Rejoin.StreamingAfterSeconds!.Value).Order().ToList();
        var rejoined = streaming.Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{Percentile(streaming, 50):0.0} / {streaming[^1]:0.0}");
        var times = rounds.Where(r => r.Writes.FailoverSeconds is not null).Select(r => r.Writes.FailoverSeconds!.Value).Order().ToList();
        var failover = times.Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{Percentile(times, 50):0.0} / {Percentile(times, 95):0.0} / {times[^1]:0.0}");
        var settles = rounds.Where(r => r.SettleSeconds is not null).Select(r => r.SettleSeconds!.Value).ToList();
        var settled = settles.Count == 0 ? "-" : settles.Max().ToString("0.0", CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {mode} | {rounds.Count} ({rounds.Count(r => r.NodeCount > 2)}) | {rounds.Count(r => r.Writes.FailedOver)} | {failover} | {settled} | {rejoined} | {rounds.Sum(r => r.Writes.LostIds.Count)} | {rounds.Sum(r => r.Rejoin.SalvagedCommits)} | {rounds.Sum(r => r.Writes.LostBytes)} | {rounds.Sum(r => r.Writes.SplitBrainWrites)} | {rounds.Sum(r => r.Violations.Count)} |");
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double Percentile(List<double> sorted, int percent) =>
        sorted[Math.Clamp((int)Math.Ceiling(percent / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
