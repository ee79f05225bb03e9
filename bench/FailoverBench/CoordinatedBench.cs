using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FailoverWatch.LocalServers;
using Npgsql;

namespace FailoverWatch.Bench;

/// <summary>
/// Three monitors on a real 3-member etcd, each run from nothing: seconds from the fault to the first committed
/// INSERT on the new primary. The standby runs at PostgreSQL's default wal_receiver_timeout (60s), so a hung
/// primary still looks streamed-from for a minute; only the monitors' majority can fail over sooner.
/// </summary>
internal static class CoordinatedBench
{
    private const string Defaults = "probe_interval: 1s\n  probe_timeout: 2s\n  failure_threshold: 3";

    // A hung primary's probes fail only at probe_timeout each: failure_threshold x probe_timeout bounds its detection.
    private const string ShortTimeout = "probe_interval: 1s\n  probe_timeout: 1s\n  failure_threshold: 3";

    public static async Task RunAsync(int runs, int leaseTtlSeconds)
    {
        var executable = Path.Combine(AppContext.BaseDirectory, "failoverwatch.dll");
        (string Name, Fault Fault, string Monitor)[] scenarios =
        [
            ("kill -9 of the primary", Fault.KillPrimary, Defaults),
            ("SIGSTOP of the primary (wal_receiver_timeout 60s)", Fault.StopPrimary, Defaults),
            ("SIGSTOP of the primary, probe_timeout 1s", Fault.StopPrimary, ShortTimeout),
            ($"kill -9 of the leader monitor and the primary (lease_ttl {leaseTtlSeconds}s)", Fault.KillLeaderAndPrimary, Defaults),
        ];

        await using var etcd = await LocalEtcdCluster.StartAsync();
        Console.WriteLine($"{"three monitors, scenario",-65} {"runs",4} {"min s",7} {"median s",9} {"max s",7}");
        var run = 0;
        foreach (var (name, fault, monitor) in scenarios)
        {
            var seconds = new List<double>();
            for (var i = 0; i < runs; i++)
            {
                seconds.Add(await FailOverOnceAsync(executable, etcd, $"bench{++run}", fault, monitor, leaseTtlSeconds));
            }

            seconds.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-65} {runs,4} {seconds[0],7:0.00} {seconds[seconds.Count / 2],9:0.00} {seconds[^1],7:0.00}"));
        }
    }

    private enum Fault
    {
        KillPrimary,
        StopPrimary,
        KillLeaderAndPrimary,
    }

    private static async Task<double> FailOverOnceAsync(string executable, LocalEtcdCluster etcd, string cluster, Fault fault, string monitorSettings, int leaseTtlSeconds)
    {
        await using var pair = await LocalReplicationPair.StartAsync("fw-bench-", ["wal_receiver_timeout = '60s'", "wal_retrieve_retry_interval = '200ms'"], CancellationToken.None);
        var ports = new[] { OsUser.FreeLoopbackPort(), OsUser.FreeLoopbackPort(), OsUser.FreeLoopbackPort() };
        var monitors = new List<Process>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var config = Path.Combine(pair.Directory, $"fw{i + 1}.yaml");
                await File.WriteAllTextAsync(config, Config(pair, cluster, $"fw{i + 1}", ports[i], etcd, monitorSettings, leaseTtlSeconds));
                var monitor = Process.Start(new ProcessStartInfo("dotnet", [executable, "run", "--config", config]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
                monitor.OutputDataReceived += (_, _) => { };
                monitor.ErrorDataReceived += (_, _) => { };
                monitor.BeginOutputReadLine();
                monitor.BeginErrorReadLine();
                monitors.Add(monitor);
            }

            var leader = await WaitForLeaderAndPrimaryAsync(ports);
            var clock = Stopwatch.StartNew();
            switch (fault)
            {
                case Fault.KillPrimary:
                    await pair.Primary.SignalAsync("KILL", CancellationToken.None);
                    break;
                case Fault.StopPrimary:
                    await pair.Primary.SignalServerAsync("STOP", CancellationToken.None);
                    break;
                case Fault.KillLeaderAndPrimary:
                    monitors[leader].Kill();
                    await pair.Primary.SignalAsync("KILL", CancellationToken.None);
                    break;
            }

            while (clock.Elapsed < TimeSpan.FromSeconds(90))
            {
                try
                {
                    await pair.Standby.ExecuteAsync("CREATE TABLE IF NOT EXISTS t (at timestamptz); INSERT INTO t VALUES (now())", CancellationToken.None);
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
            foreach (var monitor in monitors)
            {
                monitor.Kill(entireProcessTree: true);
                monitor.Dispose();
            }
        }
    }

    /// <summary>The fault only counts once all three agree on a leader and it has recorded pg1 as primary. The leader's index.</summary>
    private static async Task<int> WaitForLeaderAndPrimaryAsync(int[] ports)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            try
            {
                var statuses = await Task.WhenAll(ports.Select(async p => JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{p}/status"))).RootElement));
                var leaders = statuses.Select(s => s.GetProperty("leader").GetString()).Distinct().ToList();
                if (leaders is [{ } leader] && statuses.All(s => s.GetProperty("primary").GetString() == "pg1" && s.GetProperty("monitors").GetArrayLength() == 3))
                {
                    return int.Parse(leader[2..], CultureInfo.InvariantCulture) - 1;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Busy starting.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the three monitors never agreed on a leader with pg1 as primary");
    }

    private static string Config(LocalReplicationPair pair, string cluster, string name, int httpPort, LocalEtcdCluster etcd, string monitorSettings, int leaseTtlSeconds) =>
        string.Create(CultureInfo.InvariantCulture, $"""
            cluster:
              name: {cluster}
              nodes:
                - name: pg1
                  host: 127.0.0.1
                  port: {pair.Primary.Port}
                  user: postgres
                - name: pg2
                  host: 127.0.0.1
                  port: {pair.Standby.Port}
                  user: postgres
            monitor:
              {monitorSettings}
              state_file: {Path.Combine(pair.Directory, name + "-state.json")}
            http:
              listen: 127.0.0.1:{httpPort}
            coordination:
              monitor_name: {name}
              etcd:
                endpoints: {etcd.EndpointsYaml}
                lease_ttl: {leaseTtlSeconds}s
            """);
}
