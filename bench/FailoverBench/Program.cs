using System.Diagnostics;
using System.Globalization;
using FailoverWatch.LocalServers;
using Npgsql;

// Repeats a real failover N times per scenario and prints seconds from the fault to the first committed
// INSERT on the new primary: min / median / max, side by side for each monitor setting.
// With "coordinated [LEASE_TTL_SECONDS]" after N: three monitors on etcd instead (CoordinatedBench).
var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
if (args.Length > 1 && args[1] == "coordinated")
{
    await FailoverWatch.Bench.CoordinatedBench.RunAsync(runs, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5);
    return;
}

// With "heal [PGBENCH_SCALE]" after N: back to two streaming nodes after a failover, a switchover and a drill (HealBench).
if (args.Length > 1 && args[1] == "heal")
{
    await FailoverWatch.Bench.HealBench.RunAsync(runs, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20);
    return;
}

var executable = Path.Combine(AppContext.BaseDirectory, "failoverwatch.dll");
(string Name, string Signal, string Monitor)[] scenarios =
[
    ("kill -9, defaults (1s/2s/3)", "KILL", "probe_interval: 1s\n  probe_timeout: 2s\n  failure_threshold: 3"),
    ("kill -9, probe_interval 250ms", "KILL", "probe_interval: 250ms\n  probe_timeout: 500ms\n  failure_threshold: 3"),
    ("SIGSTOP, defaults, wal_receiver_timeout 5s", "STOP", "probe_interval: 1s\n  probe_timeout: 2s\n  failure_threshold: 3"),
    ("SIGSTOP, probe_interval 250ms, wal_receiver_timeout 5s", "STOP", "probe_interval: 250ms\n  probe_timeout: 500ms\n  failure_threshold: 3"),
];

Console.WriteLine($"{"scenario",-55} {"runs",4} {"min s",7} {"median s",9} {"max s",7}");
foreach (var (name, signal, monitor) in scenarios)
{
    var seconds = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        seconds.Add(await FailOverOnceAsync(executable, signal, monitor));
    }

    seconds.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-55} {runs,4} {seconds[0],7:0.00} {seconds[seconds.Count / 2],9:0.00} {seconds[^1],7:0.00}"));
}

// The fault only counts once the monitor has recorded pg1 as primary; before that it rightly does nothing.
static async Task WaitForRecordedPrimaryAsync(int httpPort)
{
    using var http = new HttpClient();
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed < TimeSpan.FromSeconds(60))
    {
        try
        {
            if ((await http.GetStringAsync(new Uri($"http://127.0.0.1:{httpPort}/status"))).Contains("\"primary\":\"pg1\"", StringComparison.Ordinal))
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
            // Not listening yet.
        }

        await Task.Delay(50);
    }

    throw new TimeoutException("monitor never recorded pg1 as primary");
}

static async Task<double> FailOverOnceAsync(string executable, string signal, string monitorSettings)
{
    await using var pair = await LocalReplicationPair.StartAsync("fw-bench-", ["wal_receiver_timeout = '5s'", "wal_retrieve_retry_interval = '200ms'"], CancellationToken.None);
    var (directory, primary, standby) = (pair.Directory, pair.Primary, pair.Standby);
    var config = Path.Combine(directory, "fw.yaml");
    var httpPort = OsUser.FreeLoopbackPort();
    await File.WriteAllTextAsync(config, $"""
        cluster:
          name: bench
          nodes:
            - name: pg1
              host: 127.0.0.1
              port: {primary.Port}
              user: postgres
            - name: pg2
              host: 127.0.0.1
              port: {standby.Port}
              user: postgres
        monitor:
          {monitorSettings}
          state_file: {Path.Combine(directory, "state.json")}
        http:
          listen: 127.0.0.1:{httpPort}
        """);
    using var monitor = Process.Start(new ProcessStartInfo("dotnet", [executable, "run", "--config", config]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
    monitor.OutputDataReceived += (_, _) => { };
    monitor.ErrorDataReceived += (_, _) => { };
    monitor.BeginOutputReadLine();
    monitor.BeginErrorReadLine();
    try
    {
        await WaitForRecordedPrimaryAsync(httpPort);
        var clock = Stopwatch.StartNew();
        // kill -9 hits the postmaster alone (a crash); SIGSTOP every server process (a hung machine).
        await (signal == "KILL" ? primary.SignalAsync(signal, CancellationToken.None) : primary.SignalServerAsync(signal, CancellationToken.None));
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                await standby.ExecuteAsync("CREATE TABLE IF NOT EXISTS t (at timestamptz); INSERT INTO t VALUES (now())", CancellationToken.None);
                return clock.Elapsed.TotalSeconds;
            }
            catch (PostgresException)
            {
                await Task.Delay(20);
            }
        }

        return double.NaN;
    }
    finally
    {
        monitor.Kill(entireProcessTree: true);
    }
}
