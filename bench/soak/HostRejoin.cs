using System.Globalization;
using System.Text.Json;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;
using FailoverWatch.State;
using Npgsql;

namespace FailoverWatch.Soak;

/// <summary>
/// How a round ended up after the host's own rejoin: when the old primary (pg1) streamed again from the round's
/// primary (seconds from the fault, null when no rejoin was needed), and the commits its salvage holds.
/// </summary>
internal sealed record RoundRejoin(double? StreamingAfterSeconds, int SalvagedCommits, IReadOnlyList<string> Violations)
{
    public static readonly RoundRejoin None = new(null, 0, []);
}

/// <summary>
/// The soak no longer heals the pair itself: every node gets a <c>rejoin_command</c> (<c>failoverwatch rejoin</c>,
/// as an ssh forced command would run it), so the host brings the fenced old primary back as a standby. After the
/// round's checks the soak waits for the pair to stream again, and checks that every acknowledged write the
/// failover lost is in the old primary's salvage.
/// </summary>
internal static class HostRejoin
{
    /// <summary>Generous: fence, hook (a hanging one times out after 5 s), a refused try while pg1 still runs, one retry, pg_rewind.</summary>
    public static readonly TimeSpan StreamingWithin = TimeSpan.FromSeconds(150);

    /// <summary>The monitor's rejoin keys: retried soon (pg1 may still run writable, or be SIGSTOPped, at the first try).</summary>
    public const string MonitorSettings = "rejoin_retry: 5s\n  rejoin_timeout: 3m";

    public static string SalvageDirectory(LocalPostgresServer node, string clusterDirectory) => Path.Combine(clusterDirectory, $"salvage-{node.Name}");

    public static string ScriptPath(LocalPostgresServer node, string clusterDirectory) => Path.Combine(clusterDirectory, $"rejoin-{node.Name}.sh");

    /// <summary>The node's rejoin script: the new primary's address comes from the host's environment, as in the README's ssh set-up.</summary>
    public static Task WriteScriptAsync(LocalPostgresServer node, string clusterDirectory, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(ScriptPath(node, clusterDirectory), MonitorProcess.ShellCommandLine(
                "rejoin", "--pgdata", node.DataDirectory, "--node", node.Name, "--start-command", node.StartCommandLine(),
                "--salvage-dir", SalvageDirectory(node, clusterDirectory), "--stream-timeout", "60s")
            + $" --source \"host=$FW_NEW_PRIMARY_HOST port=$FW_NEW_PRIMARY_PORT user={LocalPostgresServer.Superuser} dbname=postgres\"\n",
            cancellationToken);

    /// <summary>The round line's words on the rejoin.</summary>
    public static string Describe(RoundRejoin rejoin) => rejoin.StreamingAfterSeconds is { } s
        ? string.Create(CultureInfo.InvariantCulture, $"streaming again {s:0.0}s after the fault, salvaged {rejoin.SalvagedCommits}")
        : "no rejoin";

    /// <summary>The lock <c>failoverwatch rejoin</c> holds on the node (PGDATA.rejoin.lock beside PGDATA), or null while a rejoin holds it.</summary>
    public static StateFileLock? TryLock(LocalPostgresServer node) =>
        StateFileLock.TryAcquire(node.DataDirectory.TrimEnd('/') + ".rejoin", out _);

    /// <summary>
    /// A fence that holds when the server is not running: a dead server's <c>pg_ctl stop</c> fails, while
    /// <c>systemctl stop</c> would say 0, and the host rejoins only a node whose fence held.
    /// </summary>
    public static string FenceCommandLine(LocalPostgresServer node)
    {
        var (program, arguments) = OsUser.AsServerAccount(PostgresBinaries.Find().Tool("pg_ctl"), ["-D", node.DataDirectory, "status"]);
        return $"{node.StopCommandLine()} || ! {string.Join(' ', [program, .. arguments])} >/dev/null";
    }

    /// <summary>
    /// Waits until the old primary streams from <paramref name="survivor"/> (after a failover) or every standby
    /// streams from it (pg1 kept its role), then reads pg1's salvage. A round whose pair never streams again within
    /// <see cref="StreamingWithin"/>, or whose salvage holds fewer commits than the writes it lost, is a violation.
    /// </summary>
    public static async Task<RoundRejoin> AwaitAsync(SoakCluster cluster, string? survivor, WriteAnalysis writes, TimeSpan sinceFault, CancellationToken cancellationToken)
    {
        if (survivor is null)
        {
            // No single primary: the settle check has failed the round already, and there is nothing to rejoin to.
            return RoundRejoin.None;
        }

        var oldPrimary = cluster.Primary;
        var faultAt = DateTimeOffset.UtcNow - sinceFault;
        var primary = cluster.Nodes.Single(n => n.Name == survivor);
        var standbys = survivor == oldPrimary.Name ? cluster.Nodes.Count - 1 : 1;
        var streaming = survivor == oldPrimary.Name
            ? "SELECT max(backend_start) FROM pg_stat_replication WHERE state = 'streaming' HAVING count(*) >= @n"
            : $"SELECT max(backend_start) FROM pg_stat_replication WHERE state = 'streaming' AND application_name = '{oldPrimary.Name}' HAVING count(*) >= @n";
        DateTimeOffset? since = null;
        try
        {
            await Wait.UntilAsync(
                async () => (since = await StreamingSinceAsync(primary, streaming, standbys, cancellationToken)) is not null,
                StreamingWithin,
                survivor == oldPrimary.Name ? "every standby streaming from pg1" : $"{oldPrimary.Name} rejoined, streaming from {survivor}");
        }
        catch (TimeoutException e)
        {
            return new RoundRejoin(null, await SalvagedCommitsAsync(oldPrimary, cluster, cancellationToken), [$"{e.Message}: the pair is not two streaming nodes again"]);
        }

        if (survivor == oldPrimary.Name)
        {
            return RoundRejoin.None;
        }

        var salvaged = await SalvagedCommitsAsync(oldPrimary, cluster, cancellationToken);
        List<string> violations = writes.LostIds.Count > salvaged
            ? [$"{writes.LostIds.Count} acknowledged write(s) lost, but {oldPrimary.Name}'s salvage holds {salvaged} commit(s)"]
            : [];

        // The walsender started before the fault ended only when a stale connection survived: then the figure says nothing.
        var seconds = (since!.Value - faultAt).TotalSeconds;
        return new RoundRejoin(seconds > 0 ? seconds : null, salvaged, violations);
    }

    private static async Task<DateTimeOffset?> StreamingSinceAsync(LocalPostgresServer primary, string sql, int standbys, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(primary.ConnectionString()) { Timeout = 2, CommandTimeout = 2, ApplicationName = "soak-observer" }.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue("n", (long)standbys);
            return await command.ExecuteScalarAsync(cancellationToken) is DateTime at ? new DateTimeOffset(at.ToUniversalTime(), TimeSpan.Zero) : null;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>The most commits any one of the node's salvages holds (a retried rejoin may have salvaged twice): 0 when none was written.</summary>
    private static async Task<int> SalvagedCommitsAsync(LocalPostgresServer node, SoakCluster cluster, CancellationToken cancellationToken)
    {
        var folder = SalvageDirectory(node, cluster.Folder);
        if (!Directory.Exists(folder))
        {
            return 0;
        }

        var most = 0;
        foreach (var summary in Directory.GetFiles(folder, "summary.json", SearchOption.AllDirectories))
        {
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(summary, cancellationToken));
            most = Math.Max(most, json.RootElement.GetProperty("commits").GetInt32());
        }

        return most;
    }
}
