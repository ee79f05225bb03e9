using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FailoverWatch.Configuration;
using FailoverWatch.Drill;
using FailoverWatch.LocalServers;
using Npgsql;

namespace FailoverWatch.Bench;

/// <summary>
/// How long the pair takes to be two streaming nodes again, on one real pair with pgbench data (scale 20, ~300 MB):
/// a kill -9 of the primary until the old primary streams from the new one (the host's fence and rejoin_command),
/// a switchover back until both stream, and the drill's write-refused windows beside the bare switchover's, both
/// seen by the drill's own canary writer. Every figure carries the 1-minute load average read when it was taken.
/// </summary>
internal static class HealBench
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(180);

    private const string MonitorLog = "/tmp/fw-heal-bench-monitor.log";

    private sealed record Figure(double Seconds, double Load);

    public static async Task RunAsync(int runs, int scale)
    {
        var executable = Path.Combine(AppContext.BaseDirectory, "failoverwatch.dll");
        await using var pair = await LocalReplicationPair.StartAsync("fw-heal-", ["wal_receiver_timeout = '5s'", "wal_retrieve_retry_interval = '200ms'"], CancellationToken.None);
        var (directory, pg1, pg2) = (pair.Directory, pair.Primary, pair.Standby);
        var loadClock = Stopwatch.StartNew();
        await PgbenchInitAsync(pg1, scale);
        var size = await pg1.QueryScalarAsync<string>("SELECT pg_size_pretty(pg_database_size('postgres'))", CancellationToken.None);
        await UntilAsync(async () => await StreamsFromAsync(pg2, pg1) && await LagBytesAsync(pg1) == 0, "pg2 caught up after pgbench -i");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"data: pgbench -i -s {scale}, database {size}, loaded in {loadClock.Elapsed.TotalSeconds:0} s (load {Load():0.0})"));

        var config = await WriteConfigAsync(directory, pg1, pg2, executable);
        var options = ConfigLoader.Load(config);
        using var monitor = StartMonitor(executable, config);
        var (failover, healed, switchover, bareRefused, drillRefused, drillTotal) = (new List<Figure>(), new List<Figure>(), new List<Figure>(), new List<Figure>(), new List<Figure>(), new List<Figure>());
        var (loadedFailover, loadedHealed) = (new List<Figure>(), new List<Figure>());

        async Task FailOverAsync(int run, string? writer, List<Figure> failedOver, List<Figure> healedAgain)
        {
            await UntilAsync(async () => await StreamsFromAsync(pg2, pg1) && await LagBytesAsync(pg1) == 0 && await HostSeesAsync(directory, "pg1"), "pg2 streaming from pg1 before the fault");
            using var pgbench = writer is null ? null : StartPgbench(pg1, ["-n", "-c", "2", "-T", "120"]);
            if (pgbench is not null)
            {
                await Task.Delay(3000);
            }

            var clock = Stopwatch.StartNew();
            await pg1.SignalAsync("KILL", CancellationToken.None);
            await UntilAsync(() => WritableAsync(pg2), "pg2 writable");
            failedOver.Add(new Figure(clock.Elapsed.TotalSeconds, Load()));
            pgbench?.Kill();
            await UntilAsync(() => StreamsFromAsync(pg1, pg2), "pg1 rejoined, streaming from pg2");
            healedAgain.Add(new Figure(clock.Elapsed.TotalSeconds, Load()));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {run}: kill -9{(writer is null ? "" : " under " + writer)}: failover {failedOver[^1].Seconds:0.0} s, both streaming {healedAgain[^1].Seconds:0.0} s (load {healedAgain[^1].Load:0.0})"));
        }

        async Task SwitchOverAsync(int run)
        {
            await UntilAsync(async () => await LagBytesAsync(pg2) == 0 && await HostSeesAsync(directory, "pg2"), "lag 0 before the switchover");
            await using (var canary = new CanaryWriter(options, TimeProvider.System))
            {
                await canary.StartAsync(CancellationToken.None);
                await Task.Delay(1000);
                var clock = Stopwatch.StartNew();
                var (exit, output) = await RunCliAsync(executable, "switchover", "--config", config, "--to", "pg1");
                if (exit != 0)
                {
                    throw new InvalidOperationException($"switchover failed: {output}");
                }

                await UntilAsync(() => StreamsFromAsync(pg2, pg1), "pg2 rejoined, streaming from pg1");
                switchover.Add(new Figure(clock.Elapsed.TotalSeconds, Load()));
                await UntilAsync(() => Task.FromResult(canary.RefusedWindows.Count > 0 || clock.Elapsed > TimeSpan.FromSeconds(5)), "the canary writes again");
                var lost = await canary.StopAndCountLostAsync(CancellationToken.None);
                bareRefused.Add(new Figure(canary.RefusedWindows.Sum(w => w.Seconds), Load()));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {run}: switchover both streaming {switchover[^1].Seconds:0.0} s, writes refused {bareRefused[^1].Seconds:0.00} s in {canary.RefusedWindows.Count} window(s), {lost} acknowledged lost (load {bareRefused[^1].Load:0.0})"));
            }
        }

        try
        {
            await UntilAsync(() => HostSeesAsync(directory, "pg1"), "the monitor records pg1 as primary");
            for (var run = 1; run <= runs; run++)
            {
                // 1. kill -9 pg1, idle: pg2 writable (the failover alone), then pg1 streaming from pg2 (fence, rejoin_command).
                await FailOverAsync(run, null, failover, healed);

                // 2./3. Switchover back to pg1 with the drill's canary writer running: until both stream, and the writes it saw refused.
                await SwitchOverAsync(run);

                // 3. The drill: two switchovers (to pg2 and back), each window reported by the drill itself.
                await UntilAsync(async () => await LagBytesAsync(pg1) == 0 && await HostSeesAsync(directory, "pg1"), "lag 0 before the drill");
                var clock = Stopwatch.StartNew();
                var (drillExit, printed) = await RunCliAsync(executable, "drill", "--config", config);
                var line = printed.Split('\n').LastOrDefault(l => l.StartsWith('{')) ?? throw new InvalidOperationException($"drill printed no report: {printed}");
                using var report = JsonDocument.Parse(line);
                if (drillExit != 0 || !report.RootElement.GetProperty("passed").GetBoolean())
                {
                    throw new InvalidOperationException($"drill failed: {printed}");
                }

                drillTotal.Add(new Figure(clock.Elapsed.TotalSeconds, Load()));
                var windows = report.RootElement.GetProperty("writes_refused").EnumerateArray().Select(w => w.GetProperty("seconds").GetDouble()).ToList();
                // Two switchovers per drill: each window is one figure beside a bare switchover's.
                drillRefused.AddRange(windows.Select(w => new Figure(w, Load())));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {run}: drill {drillTotal[^1].Seconds:0.0} s, writes refused [{string.Join(", ", windows.Select(w => w.ToString("0.00", CultureInfo.InvariantCulture)))}] s, canary lost {report.RootElement.GetProperty("canary_lost").GetInt32()} (load {drillTotal[^1].Load:0.0})"));

                // 1 again, with pgbench writing on pg1 at the kill: the old primary has WAL past the fork, so salvage and pg_rewind run.
                await FailOverAsync(run, "pgbench", loadedFailover, loadedHealed);
                await SwitchOverAsync(run);
            }
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            // Print what was measured so far: a stalled step is itself a figure.
            Console.WriteLine($"stopped: {e.Message} (the monitor's log: {MonitorLog})");
        }
        finally
        {
            monitor.Kill(entireProcessTree: true);
        }

        Console.WriteLine();
        Console.WriteLine($"{"figure",-58} {"goal",6} {"runs",4} {"median s",9} {"max s",7} {"load at each",14}");
        Print("kill -9 -> new primary writable (failover alone)", "", failover);
        Print("kill -9 -> old primary streaming from new (healed)", "< 30", healed);
        Print("kill -9 under pgbench -> new primary writable", "", loadedFailover);
        Print("kill -9 under pgbench -> old primary streaming (rewound)", "< 30", loadedHealed);
        Print("switchover -> both streaming", "< 15", switchover);
        Print("bare switchover: writes refused (canary writer)", "", bareRefused);
        Print("drill: writes refused, per switchover (2 per drill)", "", drillRefused);
        Print("drill: whole run (2 switchovers, 2 rejoins, checks)", "", drillTotal);
    }

    private static void Print(string name, string goal, List<Figure> figures)
    {
        if (figures.Count == 0)
        {
            Console.WriteLine($"{name,-58} {goal,6} {0,4} {"-",9} {"-",7}");
            return;
        }

        var sorted = figures.Select(f => f.Seconds).Order().ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-58} {goal,6} {figures.Count,4} {sorted[sorted.Count / 2],9:0.00} {sorted[^1],7:0.00} {string.Join(' ', figures.Select(f => f.Load.ToString("0.0", CultureInfo.InvariantCulture))),14}"));
    }

    private static double Load() => double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    private static Process StartPgbench(LocalPostgresServer primary, string[] arguments) =>
        Process.Start(new ProcessStartInfo(PostgresBinaries.Find().Tool("pgbench"), [.. arguments, "-h", "127.0.0.1", "-p", primary.Port.ToString(CultureInfo.InvariantCulture), "-U", LocalPostgresServer.Superuser, "postgres"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;

    private static async Task PgbenchInitAsync(LocalPostgresServer primary, int scale)
    {
        using var pgbench = StartPgbench(primary, ["-i", "-q", "-s", scale.ToString(CultureInfo.InvariantCulture)]);
        var stderr = pgbench.StandardError.ReadToEndAsync();
        await pgbench.StandardOutput.ReadToEndAsync();
        await pgbench.WaitForExitAsync();
        if (pgbench.ExitCode != 0)
        {
            throw new InvalidOperationException($"pgbench -i failed: {await stderr}");
        }
    }

    private static async Task<string> WriteConfigAsync(string directory, LocalPostgresServer pg1, LocalPostgresServer pg2, string executable)
    {
        var token = Path.Combine(directory, "admin-token");
        await File.WriteAllTextAsync(token, Guid.NewGuid().ToString("N"));
        var httpPort = OsUser.FreeLoopbackPort();
        await File.WriteAllTextAsync(Path.Combine(directory, "http-port"), httpPort.ToString(CultureInfo.InvariantCulture));
        foreach (var node in new[] { pg1, pg2 })
        {
            // As the soak's host rejoin: the new primary's address comes from the host's environment.
            await File.WriteAllTextAsync(Path.Combine(directory, $"rejoin-{node.Name}.sh"), string.Join(' ', new[] { "dotnet", executable, "rejoin", "--pgdata", node.DataDirectory, "--node", node.Name, "--start-command", node.StartCommandLine(), "--salvage-dir", Path.Combine(directory, $"salvage-{node.Name}"), "--stream-timeout", "60s" }.Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"))
                + $" --source \"host=$FW_NEW_PRIMARY_HOST port=$FW_NEW_PRIMARY_PORT user={LocalPostgresServer.Superuser} dbname=postgres\"\n");
        }

        var config = Path.Combine(directory, "fw.yaml");
        await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $"""
            cluster:
              name: heal
              nodes:
            {Node(pg1, directory)}
            {Node(pg2, directory)}
            monitor:
              probe_interval: 1s
              probe_timeout: 2s
              failure_threshold: 3
              rejoin_retry: 5s
              rejoin_timeout: 3m
              # Default 1 min: the bench waits for a clean verdict in /status (the drill checks afresh itself), and the
              # last one from before a rejoin finished still says "unreachable".
              readiness_interval: 5s
              state_file: {Path.Combine(directory, "state.json")}
            http:
              listen: 127.0.0.1:{httpPort}
              admin_token_file: {token}

            """));
        return config;
    }

    /// <summary>A dead server's pg_ctl stop fails while systemctl stop says 0: the fence holds when nothing runs (as HostRejoin in the soak).</summary>
    private static string Node(LocalPostgresServer node, string directory)
    {
        var (program, arguments) = OsUser.AsServerAccount(PostgresBinaries.Find().Tool("pg_ctl"), ["-D", node.DataDirectory, "status"]);
        return string.Create(CultureInfo.InvariantCulture, $"""
                - name: {node.Name}
                  host: 127.0.0.1
                  port: {node.Port}
                  user: postgres
                  stop_command: "{node.StopCommandLine("fast")}"
                  fence_command: "{node.StopCommandLine()} || ! {string.Join(' ', [program, .. arguments])} >/dev/null"
                  rejoin_command: "sh {Path.Combine(directory, $"rejoin-{node.Name}.sh")}"
            """);
    }

    private static Process StartMonitor(string executable, string config)
    {
        // Its log outlives the pair's folder: where a step stalled, it says why.
        return Process.Start(new ProcessStartInfo("sh", ["-c", $"exec dotnet '{executable}' run --config '{config}' > {MonitorLog} 2>&1"]))!;
    }

    private static async Task<(int ExitCode, string Output)> RunCliAsync(string executable, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("dotnet", [executable, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>
    /// The host's last round has <paramref name="primary"/> as primary, every node reachable, and its last readiness
    /// check found every standby ready: each step starts from a cluster the doctor passes (the drill also checks afresh
    /// itself), and a fault before that proves nothing.
    /// </summary>
    private static async Task<bool> HostSeesAsync(string directory, string primary)
    {
        var status = await StatusAsync(directory);
        if (status.Length == 0)
        {
            return false;
        }

        using var json = JsonDocument.Parse(status);
        return json.RootElement.TryGetProperty("primary", out var recorded) && recorded.ValueKind == JsonValueKind.String && recorded.GetString() == primary
            && json.RootElement.GetProperty("nodes").EnumerateArray().All(n => n.GetProperty("reachable").GetBoolean())
            && json.RootElement.TryGetProperty("failover_readiness", out var readiness) && readiness.ValueKind == JsonValueKind.Object
            && readiness.GetProperty("problems").GetArrayLength() == 0
            && readiness.GetProperty("standbys").EnumerateObject().All(r => r.Value.GetBoolean());
    }

    private static async Task<string> StatusAsync(string directory)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        var port = await File.ReadAllTextAsync(Path.Combine(directory, "http-port"));
        try
        {
            return await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/status"));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return "";
        }
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"not within {Deadline.TotalSeconds:0} s: {what}");
    }

    private static async Task<bool> WritableAsync(LocalPostgresServer node)
    {
        try
        {
            await node.ExecuteAsync("CREATE TABLE IF NOT EXISTS heal_bench (at timestamptz); INSERT INTO heal_bench VALUES (now())", CancellationToken.None);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return false;
        }
    }

    private static async Task<bool> StreamsFromAsync(LocalPostgresServer standby, LocalPostgresServer primary)
    {
        try
        {
            return await primary.QueryScalarAsync<long>($"SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND application_name = '{standby.Name}'", CancellationToken.None) == 1;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return false;
        }
    }

    private static async Task<long> LagBytesAsync(LocalPostgresServer primary)
    {
        try
        {
            return await primary.QueryScalarAsync<long?>("SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn))::bigint FROM pg_stat_replication", CancellationToken.None) ?? -1;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return -1;
        }
    }
}
