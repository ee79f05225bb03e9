using System.Diagnostics;
using System.Globalization;

namespace FailoverWatch.Soak;

/// <summary>What every soak run is given: its time, its settings as written (for the report) and its seeded generator.</summary>
internal sealed record SoakRun(TimeSpan Budget, string MinutesSetting, int Seed, Random Random);

/// <summary>
/// The soak's loop, whatever its kind: round after round a draw from a shuffled bag and a node count from the seed,
/// the round run and checked, its line printed; the report at the end (also to <c>SOAK_RESULTS</c>). Exit 0: no
/// invariant broken; 1: a violation, a round that could not run, or an interrupted run.
/// </summary>
internal static class SoakRunner
{
    public static async Task<int> RunAsync<TDraw, TResult>(ISoakKind<TDraw, TResult> kind, SoakRun run, CancellationTokenSource stop)
        where TResult : ISoakResult
    {
        var clock = Stopwatch.StartNew();
        var rounds = new List<TResult>();
        var errors = new List<string>();
        var bag = new Queue<TDraw>();
        while (!stop.IsCancellationRequested && clock.Elapsed + kind.LastStart < run.Budget)
        {
            // A shuffled bag: random order, yet every draw comes up once per bag.
            if (bag.Count == 0)
            {
                var draws = kind.Bag();
                run.Random.Shuffle(draws);
                draws.ToList().ForEach(bag.Enqueue);
            }

            var draw = bag.Dequeue();
            var nodeCount = run.Random.Next(3) == 0 ? 3 : 2;
            var number = rounds.Count + errors.Count + 1;
            try
            {
                var result = await kind.RunAsync(number, draw, nodeCount, stop.Token);
                rounds.Add(result);
                Console.WriteLine(kind.Line(result));
                foreach (var violation in result.Violations)
                {
                    Console.WriteLine($"    VIOLATION: {violation} [evidence: {result.Evidence}]");
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                Console.WriteLine("soak: interrupted");
                break;
            }
            catch (Exception e)
            {
                errors.Add($"round {number} ({kind.Label(draw)}, {nodeCount} nodes): {e.GetType().Name}: {e.Message}");
                Console.WriteLine($"round {number,3} {kind.Label(draw)} SOAK ERROR {e}");
            }
        }

        var header = string.Create(CultureInfo.InvariantCulture,
            $"{kind.Title} {DateTime.UtcNow:yyyy-MM-dd HH:mm}Z: {clock.Elapsed.TotalMinutes:0.0} min (SOAK_MINUTES={run.MinutesSetting}, {kind.Setting}), seed {run.Seed}, {Environment.ProcessorCount} cores{kind.HeaderEnd()}");
        var report = SoakReport.Render(kind, rounds, errors, header);
        Console.WriteLine();
        Console.WriteLine(report);
        if (Environment.GetEnvironmentVariable("SOAK_RESULTS") is { Length: > 0 } resultsFile)
        {
            await File.WriteAllTextAsync(resultsFile, report);
        }

        // An interrupted soak (Ctrl-C, SIGTERM, the hard stop) or one that ran no round proves nothing: not a pass.
        var violations = rounds.Sum(r => r.Violations.Count);
        var passed = violations == 0 && errors.Count == 0 && rounds.Count > 0 && !stop.IsCancellationRequested;
        Console.WriteLine(passed ? "soak: passed" : $"soak: FAILED ({violations} violation(s), {errors.Count} soak error(s){(stop.IsCancellationRequested ? ", interrupted" : "")})");
        return passed ? 0 : 1;
    }

    /// <summary>The values of <typeparamref name="T"/> named in <paramref name="variable"/> (comma-separated), all when it is unset; false, said on stderr, for a name that is none.</summary>
    public static bool TryNarrow<T>(string variable, out T[] values)
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
}
