using System.Globalization;
using System.Runtime.InteropServices;
using FailoverWatch.Soak;

// The soak: round after round, a fresh cluster, one random fault, the invariants checked; a table at the end.
// SOAK_MINUTES (default 3) bounds it: no round starts once less than a round's time remains (ISoakKind.LastStart),
// and a hard stop cancels anything left 5 minutes after that. Exit 0: no invariant broken; 1: a violation or a round that could not run.
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
if (!SoakRunner.TryNarrow<Fault>("SOAK_FAULTS", out var faults))
{
    return 2;
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
var run = new SoakRun(budget, minutesSetting, seed, random);
if (monitorsSetting == "3")
{
    if (CoordinatedSoak.Create(random, evidenceRoot) is not { } coordinated)
    {
        return 2;
    }

    Console.WriteLine($"three monitors on a 3-member etcd, lease_ttl {CoordinatedCluster.LeaseTtlSeconds}s");
    return await SoakRunner.RunAsync(coordinated, run, stop);
}

return await SoakRunner.RunAsync(new SingleMonitorSoak(faults, syncFor, syncSetting, random, evidenceRoot), run, stop);
