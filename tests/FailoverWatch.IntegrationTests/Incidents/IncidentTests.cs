using System.Text.Json;
using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.IntegrationTests.Incidents;

/// <summary>An incident from a real kill -9: every phase with its time, served, listed and explained.</summary>
public sealed class IncidentTests
{
    private const string Fast = "probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 3";
    private static readonly string[] Phases = ["detected", "decided", "fence", "promote", "writable", "checkpoint", "hook"];

    [Fact]
    public async Task a_kill_9_failover_becomes_an_incident_with_every_phase_timed_and_explained()
    {
        await using var cluster = await TestCluster.StartAsync(Fast);
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await FailoverTests.WaitForPrimaryAsync(monitor, "pg1");
        await cluster.Pair.WaitForStreamingAsync();

        var killedAt = DateTimeOffset.UtcNow;
        await cluster.Pair.Primary.SignalAsync("KILL", CancellationToken.None);
        JsonElement failover = default;
        await Wait.UntilAsync(
            async () =>
            {
                failover = (await monitor.IncidentsAsync()).LastOrDefault(i => i.GetProperty("kind").GetString() == "failover");
                return failover.ValueKind == JsonValueKind.Object && failover.GetProperty("result").GetString() == "promoted";
            },
            TimeSpan.FromSeconds(30),
            "the failover incident closed as promoted");

        Assert.Equal("pg1", failover.GetProperty("from").GetString());
        Assert.Equal("pg2", failover.GetProperty("to").GetString());
        Assert.Equal(0, failover.GetProperty("wal_lost_bytes").GetInt64());
        Assert.Contains("promoting pg2", failover.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var phases = failover.GetProperty("phases").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => (At: p.GetProperty("at").GetDateTimeOffset(), Ok: p.GetProperty("ok").GetBoolean()));
        Assert.Equal(Phases.Order(), phases.Keys.Order());
        // The fixture's fence (pg_ctl stop) fails on a server already killed; the incident says so truthfully.
        Assert.All(phases.Where(p => p.Key != "fence"), p => Assert.True(p.Value.Ok, $"{p.Key} failed"));
        Assert.All(phases, p => Assert.InRange(p.Value.At, killedAt, DateTimeOffset.UtcNow));
        Assert.True(phases["detected"].At < phases["decided"].At, "detected before decided");
        Assert.True(phases["decided"].At <= phases["promote"].At && phases["promote"].At <= phases["writable"].At, "decided, promote, writable in order");
        Assert.True(phases["writable"].At <= phases["checkpoint"].At && phases["writable"].At <= phases["hook"].At, "checkpoint and hook after writable");

        // The rounds before it: the primary unreachable, the standby holding all WAL; the last one promoted.
        var rounds = failover.GetProperty("rounds").EnumerateArray().ToList();
        Assert.Equal("Promote", rounds[^1].GetProperty("decision").GetString());
        Assert.Contains(rounds, r => r.GetProperty("reports").EnumerateArray().Any(n => n.GetProperty("node").GetString() == "pg1" && n.GetProperty("failure").ValueKind == JsonValueKind.Object));

        // In the state file the CLI reads; the primary found at the first start is recorded quietly, not an incident.
        var id = failover.GetProperty("id").GetString()!;
        var (listed, list) = await MonitorProcess.RunCliAsync("incidents", "--config", cluster.ConfigPath);
        Assert.True(listed == 0, list);
        Assert.Contains(id, list, StringComparison.Ordinal);
        Assert.DoesNotContain("adoption", list, StringComparison.Ordinal);
        var (jsonExit, json) = await MonitorProcess.RunCliAsync("incidents", "--config", cluster.ConfigPath, "--json");
        Assert.True(jsonExit == 0, json);
        Assert.Contains(JsonDocument.Parse(json).RootElement.EnumerateArray(), i => i.GetProperty("id").GetString() == id);

        var (explained, explanation) = await MonitorProcess.RunCliAsync("explain", "--config", cluster.ConfigPath, id);
        Assert.True(explained == 0, explanation);
        Assert.Contains("=> Promote: primary pg1 failed 3 probes in a row", explanation, StringComparison.Ordinal);
        Assert.Contains("=> NoAction: primary pg1 failed 1 of 3 probes", explanation, StringComparison.Ordinal);
        Assert.DoesNotContain("recorded then", explanation, StringComparison.Ordinal);
        Assert.All(Phases, p => Assert.Contains($"  {p,-10} ", explanation, StringComparison.Ordinal));
        Assert.Equal(1, (await MonitorProcess.RunCliAsync("explain", "--config", cluster.ConfigPath, "no-such-incident")).ExitCode);
        Assert.Equal(1, await monitor.MetricAsync("failoverwatch_incidents_total{cluster=\"test\",kind=\"failover\"}"));
    }
}
