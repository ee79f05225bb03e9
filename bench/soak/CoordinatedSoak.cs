using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace FailoverWatch.Soak;

/// <summary>
/// The three-monitor soak (<c>SOAK_MONITORS=3</c>): round after round, every coordination fault combined with every
/// database fault in a shuffled bag, the checks of <see cref="CoordinatedRound"/>; a table at the end.
/// <c>SOAK_COORDINATION</c> and <c>SOAK_DATABASE</c> (names, comma-separated) narrow the draw.
/// </summary>
internal static class CoordinatedSoak
{
    /// <summary>A round takes about a minute: none starts once less than this remains.</summary>
    private static readonly TimeSpan LastStart = TimeSpan.FromSeconds(45);

    public static async Task<int> RunAsync(TimeSpan budget, Random random, int seed, string minutesSetting, string evidenceRoot, CancellationTokenSource stop)
    {
        if (!TryNarrow<CoordinationFault>("SOAK_COORDINATION", out var coordination) || !TryNarrow<DatabaseFault>("SOAK_DATABASE", out var database))
        {
            return 2;
        }

        Console.WriteLine($"three monitors on a 3-member etcd, lease_ttl {CoordinatedCluster.LeaseTtlSeconds}s");
        var clock = Stopwatch.StartNew();
        var rounds = new List<CoordinatedResult>();
        var errors = new List<string>();
        var bag = new Queue<(CoordinationFault, DatabaseFault)>();
        while (!stop.IsCancellationRequested && clock.Elapsed + LastStart < budget)
        {
            // Every combination once per bag, in random order.
            if (bag.Count == 0)
            {
                (CoordinationFault, DatabaseFault)[] all = [.. coordination.SelectMany(c => database.Select(d => (c, d)))];
                random.Shuffle(all);
                all.ToList().ForEach(bag.Enqueue);
            }

            var (c, d) = bag.Dequeue();
            var nodeCount = random.Next(3) == 0 ? 3 : 2;
            var number = rounds.Count + errors.Count + 1;
            try
            {
                var r = await CoordinatedRound.RunAsync(number, c, d, nodeCount, random, evidenceRoot, stop.Token);
                rounds.Add(r);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {number,3} {c.Name(),-31} + {d.Name(),-21} {nodeCount} nodes  failover {Seconds(r.Writes.FailoverSeconds),6}  leader gap {r.LeaderGapSeconds,4:0.0}/{r.LeaderBoundSeconds:0}s  publish {Seconds(r.PublishSeconds),6}  promotions {r.Promotions}  settled {Seconds(r.SettleSeconds),6}  acks {r.Acks,5}  lost {r.Writes.LostIds.Count,3}  split-brain {r.Writes.SplitBrainWrites}  {(r.Violations.Count == 0 ? "ok" : "VIOLATION")}  {r.Duration.TotalSeconds:0}s  [{r.Actors}] {r.Notes}"));
                foreach (var violation in r.Violations)
                {
                    Console.WriteLine($"    VIOLATION: {violation} [evidence: {r.Evidence}]");
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                Console.WriteLine("soak: interrupted");
                break;
            }
            catch (Exception e)
            {
                errors.Add($"round {number} ({c.Name()} + {d.Name()}, {nodeCount} nodes): {e.GetType().Name}: {e.Message}");
                Console.WriteLine($"round {number,3} {c.Name()} + {d.Name()} SOAK ERROR {e}");
            }
        }

        var header = string.Create(CultureInfo.InvariantCulture,
            $"Coordinated soak {DateTime.UtcNow:yyyy-MM-dd HH:mm}Z: {clock.Elapsed.TotalMinutes:0.0} min (SOAK_MINUTES={minutesSetting}, SOAK_MONITORS=3), seed {seed}, {Environment.ProcessorCount} cores, load average {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))} at the end. Leader gap: the longest stretch without a leader from the fault (monitor faults, cuts) or from etcd's return (etcd faults), against its bound. Publish: from the faults' end until every monitor's view was written in etcd again (bound 10 s). Promotions: PostgreSQL's \"received promote request\" lines. Actors: the monitors in the fence/stop/hook wrappers' logs.");
        var report = Render(rounds, errors, header);
        Console.WriteLine();
        Console.WriteLine(report);
        if (Environment.GetEnvironmentVariable("SOAK_RESULTS") is { Length: > 0 } resultsFile)
        {
            await File.WriteAllTextAsync(resultsFile, report);
        }

        var violations = rounds.Sum(r => r.Violations.Count);
        var passed = violations == 0 && errors.Count == 0 && rounds.Count > 0 && !stop.IsCancellationRequested;
        Console.WriteLine(passed ? "soak: passed" : $"soak: FAILED ({violations} violation(s), {errors.Count} soak error(s){(stop.IsCancellationRequested ? ", interrupted" : "")})");
        return passed ? 0 : 1;
    }

    private static string Seconds(double? seconds) => seconds is { } s ? s.ToString("0.00", CultureInfo.InvariantCulture) + "s" : "-";

    private static bool TryNarrow<T>(string variable, out T[] values)
        where T : struct, Enum
    {
        values = Enum.GetValues<T>();
        var names = (Environment.GetEnvironmentVariable(variable) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0)
        {
            return true;
        }

        var chosen = new List<T>();
        foreach (var name in names)
        {
            if (!Enum.TryParse<T>(name, ignoreCase: true, out var value))
            {
                Console.Error.WriteLine($"{variable}: '{name}' is not one of {string.Join(", ", Enum.GetNames<T>())}");
                return false;
            }

            chosen.Add(value);
        }

        values = [.. chosen];
        return true;
    }

    private static string Render(IReadOnlyList<CoordinatedResult> rounds, IReadOnlyList<string> errors, string header)
    {
        var text = new StringBuilder();
        text.AppendLine(header).AppendLine();
        text.AppendLine("| coordination fault | database fault | rounds (3-node) | failovers | promotions | failover s median / max | leader gap s max (bound) | publish s max | settled s max | lost writes | split-brain writes | violations |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var group in rounds.GroupBy(r => (r.Coordination, r.Database)).OrderBy(g => g.Key))
        {
            text.AppendLine(Row(group.Key.Coordination.Name(), group.Key.Database.Name(), [.. group]));
        }

        text.AppendLine(Row("**all**", "", rounds));
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Rounds: {rounds.Count}; acknowledged writes: {rounds.Sum(r => r.Acks)}; soak errors (rounds that could not run): {errors.Count}.");
        foreach (var round in rounds.Where(r => r.Violations.Count > 0))
        {
            foreach (var violation in round.Violations)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- VIOLATION round {round.Number} ({round.Coordination.Name()} + {round.Database.Name()}, {round.NodeCount} nodes; {round.Notes}): {violation} [evidence: {round.Evidence}]");
            }
        }

        foreach (var error in errors)
        {
            text.AppendLine("- SOAK ERROR " + error);
        }

        return text.ToString();
    }

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
