using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.LocalServers;
using Grpc.Core;
using Npgsql;

namespace FailoverWatch.Bench;

/// <summary>
/// Three monitors on a real 3-member etcd, each run from nothing: seconds from the fault to the first committed
/// INSERT on the new primary. The standby runs at PostgreSQL's default wal_receiver_timeout (60s), so a hung
/// primary still looks streamed-from for a minute; only the monitors' majority can fail over sooner.
/// </summary>
internal static class CoordinatedBench
{
    private static readonly Dictionary<Process, List<string>> Outputs = [];

    private const string Defaults = "probe_interval: 1s\n  probe_timeout: 2s\n  failure_threshold: 3";

    // A hung primary's probes fail only at probe_timeout each: failure_threshold x probe_timeout bounds its detection.
    private const string ShortTimeout = "probe_interval: 1s\n  probe_timeout: 1s\n  failure_threshold: 3";

    public static async Task RunAsync(int runs, int leaseTtlSeconds)
    {
        var executable = Path.Combine(AppContext.BaseDirectory, "failoverwatch.dll");
        // The one-monitor row is the same kill -9 without coordination: the baseline the three monitors are held to (+0.2 s).
        (string Name, Fault Fault, string Monitor, int Monitors)[] scenarios =
        [
            ("kill -9 of the primary, one monitor (no etcd)", Fault.KillPrimary, Defaults, 1),
            ("kill -9 of the primary", Fault.KillPrimary, Defaults, 3),
            ("SIGSTOP of the primary (wal_receiver_timeout 60s)", Fault.StopPrimary, Defaults, 3),
            ("SIGSTOP of the primary, probe_timeout 1s", Fault.StopPrimary, ShortTimeout, 3),
            ($"kill -9 of the leader monitor and the primary (lease_ttl {leaseTtlSeconds}s)", Fault.KillLeaderAndPrimary, Defaults, 3),
            ("etcd raft leader frozen 8s, then kill -9 of the primary (s after the thaw)", Fault.EtcdLeaderFrozenThenKillPrimary, Defaults, 3),
        ];

        await using var etcd = await LocalEtcdCluster.StartAsync();
        Console.WriteLine($"load average at the start: {LoadAverage()}");
        Console.WriteLine($"{"three monitors unless said, scenario",-75} {"runs",4} {"min s",7} {"median s",9} {"max s",7}");
        var run = 0;
        // BENCH_ONLY (a piece of a scenario's name, or "idle") runs that alone.
        var only = Environment.GetEnvironmentVariable("BENCH_ONLY") ?? "";
        foreach (var (name, fault, monitor, count) in scenarios.Where(s => s.Name.Contains(only, StringComparison.Ordinal)))
        {
            var seconds = new List<double>();
            for (var i = 0; i < runs; i++)
            {
                seconds.Add(await FailOverOnceAsync(executable, etcd, $"bench{++run}", fault, monitor, leaseTtlSeconds, count));
            }

            // A run that never failed over is counted apart, not sorted in as a number.
            var missed = seconds.RemoveAll(double.IsNaN);
            seconds.Sort();
            var figures = seconds.Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{seconds[0],7:0.00} {seconds[seconds.Count / 2],9:0.00} {seconds[^1],7:0.00}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-75} {runs,4} {figures}{(missed > 0 ? $"  ({missed} without a failover in 90 s)" : "")}"));
        }

        if (only.Length == 0 || only == "idle")
        {
            await IdleRequestsAsync(executable, etcd, $"bench{++run}", leaseTtlSeconds);
        }

        Console.WriteLine($"load average at the end: {LoadAverage()}");
    }

    /// <summary>
    /// etcd requests per second with three idle monitors, from etcd's own counters summed over the members: unary calls
    /// finished (<c>grpc_server_handled_total</c>) and messages received on any call, streams included
    /// (<c>grpc_server_msg_received_total</c>), over 60 s once the monitors agree.
    /// </summary>
    private static async Task IdleRequestsAsync(string executable, LocalEtcdCluster etcd, string cluster, int leaseTtlSeconds)
    {
        await using var pair = await LocalReplicationPair.StartAsync("fw-bench-", ["wal_receiver_timeout = '60s'"], CancellationToken.None);
        var (monitors, ports) = await StartMonitorsAsync(executable, etcd, pair, cluster, Defaults, leaseTtlSeconds, 3);
        try
        {
            await WaitForLeaderAndPrimaryAsync(ports, etcd, cluster);
            var window = TimeSpan.FromSeconds(60);
            var before = await EtcdCountersAsync(etcd);
            var clock = Stopwatch.StartNew();
            await Task.Delay(window);
            var after = await EtcdCountersAsync(etcd);
            var seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"etcd, three idle monitors over {seconds:0}s: {(after.Handled - before.Handled) / seconds:0.0} unary calls/s, {(after.Received - before.Received) / seconds:0.0} messages received/s (load {LoadAverage()})"));
        }
        finally
        {
            StopAll(monitors);
        }
    }

    private static async Task<(double Handled, double Received)> EtcdCountersAsync(LocalEtcdCluster etcd)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        double handled = 0, received = 0;
        foreach (var url in etcd.ClientUrls)
        {
            foreach (var line in (await http.GetStringAsync(new Uri(url + "/metrics"))).Split('\n'))
            {
                var value = line.LastIndexOf(' ') is var space and > 0 ? line[(space + 1)..] : "0";
                if (line.StartsWith("grpc_server_handled_total{", StringComparison.Ordinal))
                {
                    handled += double.Parse(value, CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("grpc_server_msg_received_total{", StringComparison.Ordinal))
                {
                    received += double.Parse(value, CultureInfo.InvariantCulture);
                }
            }
        }

        return (handled, received);
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private enum Fault
    {
        KillPrimary,
        StopPrimary,
        KillLeaderAndPrimary,
        EtcdLeaderFrozenThenKillPrimary,
    }

    private static async Task<(List<Process> Monitors, int[] Ports)> StartMonitorsAsync(
        string executable, LocalEtcdCluster etcd, LocalReplicationPair pair, string cluster, string monitorSettings, int leaseTtlSeconds, int count)
    {
        var ports = Enumerable.Range(0, count).Select(_ => OsUser.FreeLoopbackPort()).ToArray();
        var monitors = new List<Process>();
        for (var i = 0; i < count; i++)
        {
            var config = Path.Combine(pair.Directory, $"{MonitorGroupConfig.Name(i)}.yaml");
            await File.WriteAllTextAsync(config, Config(pair, cluster, MonitorGroupConfig.Name(i), ports[i], count > 1 ? etcd : null, monitorSettings, leaseTtlSeconds));
            var monitor = Process.Start(new ProcessStartInfo("dotnet", [executable, "run", "--config", config]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            // Kept for a run that never fails over: what each monitor said explains it.
            var output = new List<string>();
            Outputs[monitor] = output;
            monitor.OutputDataReceived += (_, e) => Keep(output, e.Data);
            monitor.ErrorDataReceived += (_, e) => Keep(output, e.Data);
            monitor.BeginOutputReadLine();
            monitor.BeginErrorReadLine();
            monitors.Add(monitor);
        }

        return (monitors, ports);
    }

    private static void Keep(List<string> output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            }
        }
    }

    private static void StopAll(List<Process> monitors)
    {
        foreach (var monitor in monitors)
        {
            Outputs.Remove(monitor);
            monitor.Kill(entireProcessTree: true);
            monitor.Dispose();
        }
    }

    private static async Task<double> FailOverOnceAsync(string executable, LocalEtcdCluster etcd, string cluster, Fault fault, string monitorSettings, int leaseTtlSeconds, int count)
    {
        await using var pair = await LocalReplicationPair.StartAsync("fw-bench-", ["wal_receiver_timeout = '60s'", "wal_retrieve_retry_interval = '200ms'"], CancellationToken.None);
        var (monitors, ports) = await StartMonitorsAsync(executable, etcd, pair, cluster, monitorSettings, leaseTtlSeconds, count);
        try
        {
            var leader = await WaitForLeaderAndPrimaryAsync(ports, etcd, cluster);
            if (fault == Fault.EtcdLeaderFrozenThenKillPrimary)
            {
                var frozen = await etcd.LeaderIndexAsync();
                await etcd.PauseMemberAsync(frozen);
                await Task.Delay(TimeSpan.FromSeconds(8));
                await etcd.ResumeMemberAsync(frozen);
            }

            var clock = Stopwatch.StartNew();
            switch (fault)
            {
                case Fault.KillPrimary or Fault.EtcdLeaderFrozenThenKillPrimary:
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

            Console.Error.WriteLine($"no failover within 90 s ({fault}, {count} monitors); the monitors printed:");
            foreach (var (monitor, i) in monitors.Select((m, i) => (m, i)))
            {
                lock (Outputs[monitor])
                {
                    Console.Error.WriteLine($"--- fw{i + 1}\n{string.Join('\n', Outputs[monitor])}");
                }
            }

            return double.NaN;
        }
        finally
        {
            StopAll(monitors);
        }
    }

    /// <summary>The fault only counts once all three agree on a leader and etcd records pg1 as primary (one monitor alone: once it names pg1). The leader's index.</summary>
    private static async Task<int> WaitForLeaderAndPrimaryAsync(int[] ports, LocalEtcdCluster etcd, string cluster)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        using var reader = new EtcdGateway(new EtcdOptions { Endpoints = [.. etcd.ClientUrls] }, TimeProvider.System);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            try
            {
                var statuses = await Task.WhenAll(ports.Select(async p => JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{p}/status"))).RootElement));
                if (ports.Length == 1 && statuses[0].GetProperty("primary").GetString() == "pg1")
                {
                    return 0;
                }

                var leaders = statuses.Select(s => s.TryGetProperty("leader", out var l) ? l.GetString() : null).Distinct().ToList();
                // /status names the writable node a round before the leader records it in etcd; a leader killed with the
                // primary in between leaves a first start that never recorded a primary, which nothing fails over.
                if (leaders is [{ } leader] && statuses.All(s => s.GetProperty("primary").GetString() == "pg1" && s.GetProperty("monitors").GetArrayLength() == ports.Length)
                    && await reader.GetAsync(EtcdKeys.For("/failoverwatch", cluster).State, CancellationToken.None) is { } state && EtcdStateStore.Parse(state.Value.Span).Primary == "pg1")
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
            catch (RpcException)
            {
                // etcd slow to answer on a loaded machine: asked again.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the three monitors never agreed on a leader with pg1 as primary");
    }

    private static string Config(LocalReplicationPair pair, string cluster, string name, int httpPort, LocalEtcdCluster? etcd, string monitorSettings, int leaseTtlSeconds) =>
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

            """) + (etcd is null ? "" : MonitorConfigYaml.Coordination(name, etcd.ClientUrls, leaseTtlSeconds));
}
