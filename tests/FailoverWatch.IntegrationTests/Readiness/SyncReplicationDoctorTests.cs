using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.IntegrationTests.Readiness;

/// <summary><c>failoverwatch doctor</c> with <c>replication.mode: sync</c> names what zero loss needs and is missing, on a real pair.</summary>
public sealed class SyncReplicationDoctorTests
{
    [Fact]
    public async Task doctor_names_missing_grants_a_lower_synchronous_commit_and_a_standby_under_another_application_name()
    {
        await using var cluster = await TestCluster.StartAsync("probe_interval: 1s\nprobe_timeout: 2s", monitorUser: "fw_monitor");
        await File.AppendAllTextAsync(cluster.ConfigPath, "replication:\n  mode: sync\n");
        await cluster.Pair.Primary.ExecuteAsync(
            "CREATE ROLE fw_monitor LOGIN; GRANT pg_monitor, pg_checkpoint TO fw_monitor; GRANT EXECUTE ON FUNCTION pg_promote TO fw_monitor; ALTER ROLE fw_monitor SET synchronous_commit = local",
            CancellationToken.None);
        var conninfo = await cluster.Pair.Standby.QueryScalarAsync<string>("SHOW primary_conninfo", CancellationToken.None);
        await cluster.Pair.Standby.ExecuteAsync($"ALTER SYSTEM SET primary_conninfo = '{conninfo.Replace("application_name=pg2", "application_name=walreceiver", StringComparison.Ordinal)}'", CancellationToken.None);
        await cluster.Pair.Standby.ExecuteAsync("SELECT pg_reload_conf()", CancellationToken.None);

        string[] expected =
        [
            "pg1: role fw_monitor may not set synchronous_standby_names",
            "pg1: role fw_monitor may not EXECUTE pg_reload_conf()",
            "pg1: synchronous_commit is local for role fw_monitor",
            "pg2: streams, but the primary's pg_stat_replication has no application_name 'pg2' (it shows 'walreceiver')",
        ];
        var output = "";
        await Wait.UntilAsync(
            async () =>
            {
                output = (await MonitorProcess.RunCliAsync("doctor", "--config", cluster.ConfigPath)).Output;
                return expected.All(e => output.Contains(e, StringComparison.Ordinal));
            },
            TimeSpan.FromSeconds(40),
            "doctor naming every problem");

        await cluster.Pair.Primary.ExecuteAsync(
            "GRANT ALTER SYSTEM ON PARAMETER synchronous_standby_names TO fw_monitor; GRANT EXECUTE ON FUNCTION pg_reload_conf TO fw_monitor; ALTER ROLE fw_monitor RESET synchronous_commit",
            CancellationToken.None);
        await Wait.UntilAsync(
            async () =>
            {
                output = (await MonitorProcess.RunCliAsync("doctor", "--config", cluster.ConfigPath)).Output;
                return !output.Contains("pg1:", StringComparison.Ordinal) && output.Contains(expected[3], StringComparison.Ordinal);
            },
            TimeSpan.FromSeconds(40),
            $"doctor naming only the application_name once the grants are there; last output: {output}");
    }
}
