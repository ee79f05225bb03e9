using System.Globalization;
using FailoverWatch.Configuration;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Monitoring;
using FailoverWatch.Readiness;

namespace FailoverWatch.IntegrationTests.Readiness;

/// <summary>The doctor's check that rejoin_user can be pg_rewind's source, against real roles and grants.</summary>
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
    }

    private static Task WaitForStandbyAsync(PostgresPair pair, string sql, long expected) =>
        Wait.UntilAsync(
            async () => await pair.Standby.QueryScalarAsync<long>(sql, CancellationToken.None) == expected,
            TimeSpan.FromSeconds(30),
            string.Create(CultureInfo.InvariantCulture, $"standby replayed: {sql}"));
}
