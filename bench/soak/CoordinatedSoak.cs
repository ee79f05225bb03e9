using System.Globalization;

namespace FailoverWatch.Soak;

/// <summary>
/// The three-monitor soak (<c>SOAK_MONITORS=3</c>): every coordination fault combined with every database fault in a
/// shuffled bag, the checks of <see cref="CoordinatedRound"/>. <c>SOAK_COORDINATION</c> and <c>SOAK_DATABASE</c>
/// (names, comma-separated) narrow the draw.
/// </summary>
internal sealed class CoordinatedSoak(CoordinationFault[] coordination, DatabaseFault[] database, Random random, string evidenceRoot)
    : ISoakKind<(CoordinationFault Coordination, DatabaseFault Database), CoordinatedResult>
{
    /// <summary>A round takes about a minute: none starts once less than this remains.</summary>
    public TimeSpan LastStart => TimeSpan.FromSeconds(45);

    public string Title => "Coordinated soak";

    public string Setting => "SOAK_MONITORS=3";

    /// <summary>The soak with the draw <c>SOAK_COORDINATION</c> and <c>SOAK_DATABASE</c> narrow it to; null (said on stderr) for a name that is none.</summary>
    public static CoordinatedSoak? Create(Random random, string evidenceRoot) =>
        SoakRunner.TryNarrow<CoordinationFault>("SOAK_COORDINATION", out var coordination) && SoakRunner.TryNarrow<DatabaseFault>("SOAK_DATABASE", out var database)
            ? new CoordinatedSoak(coordination, database, random, evidenceRoot)
            : null;

    /// <summary>Every combination once.</summary>
    public (CoordinationFault Coordination, DatabaseFault Database)[] Bag() => [.. coordination.SelectMany(c => database.Select(d => (c, d)))];

    public string Label((CoordinationFault Coordination, DatabaseFault Database) draw) => $"{draw.Coordination.Name()} + {draw.Database.Name()}";

    public Task<CoordinatedResult> RunAsync(int number, (CoordinationFault Coordination, DatabaseFault Database) draw, int nodeCount, CancellationToken cancellationToken) =>
        CoordinatedRound.RunAsync(number, draw.Coordination, draw.Database, nodeCount, random, evidenceRoot, cancellationToken);

    public string Line(CoordinatedResult r) => string.Create(CultureInfo.InvariantCulture,
        $"round {r.Number,3} {r.Coordination.Name(),-31} + {r.Database.Name(),-21} {r.NodeCount} nodes  failover {Seconds(r.Writes.FailoverSeconds),6}  leader gap {r.LeaderGapSeconds,4:0.0}/{r.LeaderBoundSeconds:0}s  publish {Seconds(r.PublishSeconds),6}  promotions {r.Promotions}  settled {Seconds(r.SettleSeconds),6}  acks {r.Acks,5}  lost {r.Writes.LostIds.Count,3}  split-brain {r.Writes.SplitBrainWrites}  {(r.Violations.Count == 0 ? "ok" : "VIOLATION")}  {r.Duration.TotalSeconds:0}s  [{r.Actors}] {r.Notes}");

    public string HeaderEnd() =>
        $", load average {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))} at the end. Leader gap: the longest stretch without a leader from the fault (monitor faults, cuts) or from etcd's return (etcd faults), against its bound. Publish: from the faults' end until every monitor's view was written in etcd again (bound 10 s). Promotions: PostgreSQL's \"received promote request\" lines. Actors: the monitors in the fence/stop/hook wrappers' logs.";

    public IEnumerable<string> Table(IReadOnlyList<CoordinatedResult> rounds)
    {
        yield return "| coordination fault | database fault | rounds (3-node) | failovers | promotions | failover s median / max | leader gap s max (bound) | publish s max | settled s max | lost writes | split-brain writes | violations |";
        yield return "|---|---|---|---|---|---|---|---|---|---|---|---|";
        foreach (var group in rounds.GroupBy(r => (r.Coordination, r.Database)).OrderBy(g => g.Key))
        {
            yield return Row(group.Key.Coordination.Name(), group.Key.Database.Name(), [.. group]);
        }

        yield return Row("**all**", "", rounds);
    }

    public IEnumerable<string> Summary(IReadOnlyList<CoordinatedResult> rounds) => [];

    private static string Seconds(double? seconds) => seconds is { } s ? s.ToString("0.00", CultureInfo.InvariantCulture) + "s" : "-";

    private static string Row(string coordination, string database, IReadOnlyList<CoordinatedResult> rounds)
    {
        var times = rounds.Where(r => r.Writes.FailoverSeconds is not null).Select(r => r.Writes.FailoverSeconds!.Value).Order().ToList();
        var failover = times.Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{times[(times.Count - 1) / 2]:0.0} / {times[^1]:0.0}");
        var publish = rounds.Any(r => r.PublishSeconds is null) ? "never" : Max(rounds.Select(r => r.PublishSeconds!.Value));
        var settled = rounds.Any(r => r.SettleSeconds is null) ? "never" : Max(rounds.Select(r => r.SettleSeconds!.Value));
        var gaps = string.Join(", ", rounds.GroupBy(r => r.LeaderBoundSeconds).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Max(r => r.LeaderGapSeconds):0.0} ({g.Key:0})")));
        return string.Create(CultureInfo.InvariantCulture,
            $"| {coordination} | {database} | {rounds.Count} ({rounds.Count(r => r.NodeCount > 2)}) | {rounds.Count(r => r.Writes.FailedOver)} | {rounds.Sum(r => r.Promotions)} | {failover} | {gaps} | {publish} | {settled} | {rounds.Sum(r => r.Writes.LostIds.Count)} | {rounds.Sum(r => r.Writes.SplitBrainWrites)} | {rounds.Sum(r => r.Violations.Count)} |");
    }

    private static string Max(IEnumerable<double> values) => values.DefaultIfEmpty(0).Max().ToString("0.0", CultureInfo.InvariantCulture);
}
