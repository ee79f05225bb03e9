using System.Globalization;

namespace FailoverWatch.Soak;

/// <summary>
/// The single-monitor soak (the default): one <see cref="Fault"/> per round from a shuffled bag (every fault once per
/// bag; <c>SOAK_FAULTS</c> narrows it), the checks of <see cref="SoakRound"/>, each round synchronous or not as
/// <c>SOAK_SYNC</c> says.
/// </summary>
internal sealed class SingleMonitorSoak(Fault[] faults, Func<int, bool> syncFor, string? syncSetting, Random random, string evidenceRoot) : ISoakKind<Fault, RoundResult>
{
    public TimeSpan LastStart => TimeSpan.FromSeconds(60);

    public string Title => "Soak";

    public string Setting => $"{SyncRounds.Variable}={syncSetting ?? "0"}";

    public Fault[] Bag() => [.. faults];

    public string Label(Fault draw) => draw.Name();

    public Task<RoundResult> RunAsync(int number, Fault draw, int nodeCount, CancellationToken cancellationToken) =>
        SoakRound.RunAsync(number, draw, nodeCount, syncFor(number), random, evidenceRoot, cancellationToken);

    public string Line(RoundResult result)
    {
        var failover = result.Writes.FailoverSeconds is { } s ? $"{s:0.00}s" : "-";
        var settled = result.SettleSeconds is { } t ? $"{t:0.0}s" : "never";
        return string.Create(CultureInfo.InvariantCulture,
            $"round {result.Number,3} {result.Fault.Name(),-32} {result.NodeCount} nodes {SyncRounds.Name(result.Sync),-5}  failover {failover,7}  settled {settled,6}  acks {result.Acks,5}  lost {result.Writes.LostIds.Count,3} ({result.Writes.LostBytes} B)  split-brain {result.Writes.SplitBrainWrites}  {HostRejoin.Describe(result.Rejoin)}  {(result.Violations.Count == 0 ? "ok" : "VIOLATION")}  {result.Duration.TotalSeconds:0}s  {result.Notes}");
    }

    public string HeaderEnd() =>
        ". Failover s: from the fault to the client's first acknowledged write on another node. Settled s: from the fault's end (SIGCONT, relay restored, monitor or old primary restarted) to exactly one writable node, named by /status (the invariant: within 15 s).";

    public IEnumerable<string> Table(IReadOnlyList<RoundResult> rounds)
    {
        yield return "| fault | mode | rounds (3-node) | failovers | failover s median / p95 / max | settled s max | two streaming s median / max | lost writes | salvaged commits | lost WAL bytes | split-brain writes | violations |";
        yield return "|---|---|---|---|---|---|---|---|---|---|---|---|";
        foreach (var group in rounds.GroupBy(r => (r.Fault, r.Sync)).OrderBy(g => g.Key.Fault).ThenBy(g => g.Key.Sync))
        {
            yield return Row(group.Key.Fault.Name(), SyncRounds.Name(group.Key.Sync), [.. group]);
        }

        foreach (var mode in rounds.GroupBy(r => r.Sync).OrderBy(g => g.Key).Where(_ => rounds.Select(r => r.Sync).Distinct().Count() > 1))
        {
            yield return Row("**all**", SyncRounds.Name(mode.Key), [.. mode]);
        }

        yield return Row("**all**", string.Join("+", rounds.Select(r => SyncRounds.Name(r.Sync)).Distinct().Order()), rounds);
    }

    public IEnumerable<string> Summary(IReadOnlyList<RoundResult> rounds)
    {
        if (rounds.Count > 0)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"Load average (1 min, as each round ended): mean {rounds.Average(r => r.LoadAverage):0.0}, max {rounds.Max(r => r.LoadAverage):0.0}. Synchronous rounds degraded before their fault (asynchronous rules applied): {rounds.Count(r => r.DegradedBeforeFault)}.");
        }
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
