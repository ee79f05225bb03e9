using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using FailoverWatch.Soak;

// The soak: round after round, a fresh cluster, one random fault, the invariants checked; a table at the end.
// SOAK_MINUTES (default 3) bounds it: no round starts once less than 60 s remain, and a hard stop cancels
// anything left 5 minutes after that. Exit 0: no invariant broken; 1: a violation or a round that could not run.
var minutesSetting = Environment.GetEnvironmentVariable("SOAK_MINUTES") ?? "3";
if (!double.TryParse(minutesSetting, NumberStyles.Float, CultureInfo.InvariantCulture, out var minutes) || minutes <= 0 || minutes > 24 * 60)
{
    Console.Error.WriteLine($"SOAK_MINUTES: must be a number of minutes above 0, not '{minutesSetting}'");
    return 2;
}

// SOAK_MONITORS=3: three monitors on a real 3-member etcd instead, coordination and database faults combined (CoordinatedSoak).
var monitorsSetting = Environment.GetEnvironmentVariable("SOAK_MONITORS") ?? "1";
if (monitorsSetting is not ("1" or "3"))
{
    Console.Error.WriteLine($"SOAK_MONITORS: must be 1 or 3, not '{monitorsSetting}'");
    return 2;
}

// SOAK_FAULTS (e.g. "ManualPromotion,Stop") narrows the draw to some faults, for a run that confirms one finding.
var only = new List<Fault>();
foreach (var name in (Environment.GetEnvironmentVariable("SOAK_FAULTS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
{
    if (!Enum.TryParse<Fault>(name, ignoreCase: true, out var fault))
    {
        Console.Error.WriteLine($"SOAK_FAULTS: '{name}' is not one of {string.Join(", ", Enum.GetNames<Fault>())}");
        return 2;
    }

    only.Add(fault);
}

var syncSetting = Environment.GetEnvironmentVariable(SyncRounds.Variable);
if (SyncRounds.Parse(syncSetting) is not { } syncFor)
{
    Console.Error.WriteLine($"{SyncRounds.Variable}: must be 0, 1 or alternate, not '{syncSetting}'");
    return 2;
}

var seedSetting = Environment.GetEnvironmentVariable("SOAK_SEED");
var seed = int.TryParse(seedSetting, NumberStyles.Integer, CultureInfo.InvariantCulture, out var given) ? given : Random.Shared.Next();
var random = new Random(seed);
var budget = TimeSpan.FromMinutes(minutes);
var evidenceRoot = Path.Combine(Path.GetTempPath(), $"fw-soak-evidence-{DateTime.UtcNow:yyyyMMddTHHmmssZ}");

using var stop = new CancellationTokenSource(budget + TimeSpan.FromMinutes(5));
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

Console.WriteLine($"soak: {minutes} min, seed {seed}; evidence of violations under {evidenceRoot}");
if (monitorsSetting == "3")
{
    return await CoordinatedSoak.RunAsync(budget, random, seed, minutesSetting, evidenceRoot, stop);
}

var clock = Stopwatch.StartNew();
var rounds = new List<RoundResult>();
var errors = new List<string>();
var faults = new Queue<Fault>();
while (!stop.IsCancellationRequested && clock.Elapsed + TimeSpan.FromSeconds(60) < budget)
{
    // A shuffled bag: random order, yet every fault type comes up once per seven rounds.
    if (faults.Count == 0)
    {
        var bag = only.Count > 0 ? [.. only] : Enum.GetValues<Fault>();
        random.Shuffle(bag);
        bag.ToList().ForEach(faults.Enqueue);
    }

    var fault = faults.Dequeue();
    var nodeCount = random.Next(3) == 0 ? 3 : 2;
    var number = rounds.Count + errors.Count + 1;
    try
    {
        var result = await SoakRound.RunAsync(number, fault, nodeCount, syncFor(number), random, evidenceRoot, stop.Token);
        rounds.Add(result);
        var failover = result.Writes.FailoverSeconds is { } s ? $"{s:0.00}s" : "-";
        var settled = result.SettleSeconds is { } t ? $"{t:0.0}s" : "never";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"round {number,3} {fault.Name(),-32} {nodeCount} nodes {SyncRounds.Name(result.Sync),-5}  failover {failover,7}  settled {settled,6}  acks {result.Acks,5}  lost {result.Writes.LostIds.Count,3} ({result.Writes.LostBytes} B)  split-brain {result.Writes.SplitBrainWrites}  {HostRejoin.Describe(result.Rejoin)}  {(result.Violations.Count == 0 ? "ok" : "VIOLATION")}  {result.Duration.TotalSeconds:0}s  {result.Notes}"));
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
        errors.Add($"round {number} ({fault.Name()}, {nodeCount} nodes): {e.GetType().Name}: {e.Message}");
        Console.WriteLine($"round {number,3} {fault.Name(),-32} SOAK ERROR {e}");
    }
}

var header = string.Create(CultureInfo.InvariantCulture,
    $"Soak {DateTime.UtcNow:yyyy-MM-dd HH:mm}Z: {clock.Elapsed.TotalMinutes:0.0} min (SOAK_MINUTES={minutesSetting}, {SyncRounds.Variable}={syncSetting ?? "0"}), seed {seed}, {Environment.ProcessorCount} cores. Failover s: from the fault to the client's first acknowledged write on another node. Settled s: from the fault's end (SIGCONT, relay restored, monitor or old primary restarted) to exactly one writable node, named by /status (the invariant: within 15 s).");
var report = SoakReport.Render(rounds, errors, header);
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
