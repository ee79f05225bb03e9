using System.Globalization;
using FailoverWatch.Configuration;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Monitoring;
using FailoverWatch.LocalServers;
using FailoverWatch.Readiness;
using Npgsql;

namespace FailoverWatch.IntegrationTests.Readiness;

/// <summary>
/// The doctor's checks that rejoin_user can be pg_rewind's source and that the monitor's role can repoint a standby,
/// against real roles and grants.
/// </summary>
public sealed class RejoinGrantsCheckTests
{
    [Fact]
    public async Task a_rejoin_user_without_pg_rewind_grants_is_named_on_each_source_until_granted()
    {
        await using var pair = await PostgresPair.StartAsync();
        await pair.Primary.ExecuteAsync("CREATE ROLE rewind LOGIN REPLICATION", CancellationToken.None);
        var options = new FailoverWatchOptions
        {
            Cluster = new ClusterOptions
            {
                Name = "test",
                Nodes =
                [
                    new NodeOptions { Name = "pg1", Host = "127.0.0.1", Port = pair.Primary.Port, User = "postgres", RejoinCommand = "true", RejoinUser = "rewind" },
                    new NodeOptions { Name = "pg2", Host = "127.0.0.1", Port = pair.Standby.Port, User = "postgres" },
                ],
            },
        };
        var now = DateTimeOffset.UtcNow;
        var view = ClusterView.Build(
            [
                new NodeReport { Node = "pg1", ProbedAt = now, Duration = TimeSpan.Zero, Role = NodeRole.Primary, Writable = true },
                new NodeReport { Node = "pg2", ProbedAt = now, Duration = TimeSpan.Zero, Role = NodeRole.Standby },
            ],
            "pg1",
            null,
            now);
        var context = new ReadinessContext(options, view, "pg1");

        // pg1 rejoins from pg2 after a failover: pg2 is the source checked; pg1 itself never is.
        await WaitForStandbyAsync(pair, "SELECT count(*) FROM pg_roles WHERE rolname = 'rewind'", 1);
        var problem = Assert.Single(await new RejoinGrantsCheck().CheckAsync(context, CancellationToken.None));
        Assert.Equal("pg2", problem.Subject);
        Assert.StartsWith("role rewind cannot be pg_rewind's source here", problem.Problem, StringComparison.Ordinal);

        await pair.Primary.ExecuteAsync(
            "GRANT EXECUTE ON FUNCTION pg_ls_dir(text, boolean, boolean), pg_stat_file(text, boolean), pg_read_binary_file(text), pg_read_binary_file(text, bigint, bigint, boolean) TO rewind",
            CancellationToken.None);
        await WaitForStandbyAsync(pair, "SELECT count(*) FROM pg_roles WHERE rolname = 'rewind' AND has_function_privilege(oid, 'pg_read_binary_file(text, bigint, bigint, boolean)', 'EXECUTE')", 1);
        Assert.Empty(await new RejoinGrantsCheck().CheckAsync(context, CancellationToken.None));

        // Repointing pg2 as a non-superuser monitor role: named with exactly the grants missing, on the hot standby itself.
        // pg3 makes a wrong upstream possible at all; unprobed, it is not checked.
        await pair.Primary.ExecuteAsync("CREATE ROLE fw_monitor LOGIN", CancellationToken.None);
        var repoint = new ReadinessContext(
            new FailoverWatchOptions
            {
                Cluster = new ClusterOptions
                {
                    Name = "test",
                    Nodes =
                    [
                        options.Cluster.Nodes[0],
                        new NodeOptions { Name = "pg2", Host = "127.0.0.1", Port = pair.Standby.Port, User = "fw_monitor", RejoinCommand = "true" },
                        new NodeOptions { Name = "pg3", Host = "127.0.0.1", Port = OsUser.FreeLoopbackPort(), User = "fw_monitor", RejoinCommand = "true" },
                    ],
                },
            },
            view,
            "pg1");
        await WaitForStandbyAsync(pair, "SELECT count(*) FROM pg_roles WHERE rolname = 'fw_monitor'", 1);
        var missing = Assert.Single(await new RepointGrantsCheck().CheckAsync(repoint, CancellationToken.None));
        Assert.Equal(
            "pg2: " + RepointGrantsCheck.Problem("fw_monitor", readSettings: false, alterSystem: false, reload: false),
            missing.ToString());
        Assert.True(missing.SubjectStaysReady);
        var asMonitor = new NpgsqlConnectionStringBuilder(pair.Standby.ConnectionString()) { Username = "fw_monitor" }.ConnectionString;
        var refused = await Assert.ThrowsAsync<PostgresException>(() => RepointAsAsync(asMonitor));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);

        // Two nodes: a standby can follow no node but the primary, so nothing is ever repointed and nothing is asked.
        Assert.Empty(await new RepointGrantsCheck().CheckAsync(
            repoint with { Options = new FailoverWatchOptions { Cluster = new ClusterOptions { Name = "test", Nodes = [.. repoint.Options.Cluster.Nodes.Take(2)] } } },
            CancellationToken.None));

        await pair.Primary.ExecuteAsync("GRANT pg_read_all_settings TO fw_monitor; GRANT ALTER SYSTEM ON PARAMETER primary_conninfo TO fw_monitor", CancellationToken.None);
        await WaitForStandbyAsync(pair, "SELECT count(*) FROM pg_roles WHERE rolname = 'fw_monitor' AND has_parameter_privilege(oid, 'primary_conninfo', 'ALTER SYSTEM')", 1);
        Assert.EndsWith(
            "(GRANT EXECUTE ON FUNCTION pg_reload_conf() TO fw_monitor)",
            Assert.Single(await new RepointGrantsCheck().CheckAsync(repoint, CancellationToken.None)).Problem,
            StringComparison.Ordinal);

        await pair.Primary.ExecuteAsync("GRANT EXECUTE ON FUNCTION pg_reload_conf() TO fw_monitor", CancellationToken.None);
        await WaitForStandbyAsync(pair, "SELECT count(*) FROM pg_roles WHERE rolname = 'fw_monitor' AND has_function_privilege(oid, 'pg_reload_conf()', 'EXECUTE')", 1);
        Assert.Empty(await new RepointGrantsCheck().CheckAsync(repoint, CancellationToken.None));

        // What passes is enough: the repointing statements themselves now run as fw_monitor on the standby.
        await RepointAsAsync(asMonitor);
    }

    /// <summary>The statements <c>UpstreamCorrector</c> runs on a standby, writing back the primary_conninfo it has.</summary>
    private static async Task RepointAsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var show = new NpgsqlCommand("SHOW primary_conninfo", connection);
        var current = (string)(await show.ExecuteScalarAsync())!;
        await using var alter = new NpgsqlCommand($"ALTER SYSTEM SET primary_conninfo = '{current.Replace("'", "''", StringComparison.Ordinal)}'", connection);
        await alter.ExecuteNonQueryAsync();
        await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
        await reload.ExecuteNonQueryAsync();
    }

    private static Task WaitForStandbyAsync(PostgresPair pair, string sql, long expected) =>
        Wait.UntilAsync(
            async () => await pair.Standby.QueryScalarAsync<long>(sql, CancellationToken.None) == expected,
            TimeSpan.FromSeconds(30),
            string.Create(CultureInfo.InvariantCulture, $"standby replayed: {sql}"));
}
