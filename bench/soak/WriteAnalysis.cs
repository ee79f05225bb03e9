using System.Globalization;
using FailoverWatch.LocalServers;
using Npgsql;
using NpgsqlTypes;

namespace FailoverWatch.Soak;

/// <summary>
/// What became of the client's acknowledged writes in one round.
/// <para>Split-brain write: acknowledged by a node after another node was promoted later than it became
/// primary (pg1 is primary from the start; a promoted node from its promotion, taken as the earlier of the
/// observer's first sight of it writable, polled every 100 ms, and the client's first write on it).</para>
/// <para>Lost write: acknowledged, yet missing from the surviving primary. Under asynchronous replication a
/// failover loses what the promoted standby had not received: a lost write is explained when the failed
/// primary (pg1) acknowledged it at or beyond the survivor's timeline switch point (less 4 kB for the commit
/// record that follows the position the client read); the bytes are the WAL from the switch point to the last
/// lost write. Anything else (a lost write with no promotion, one acknowledged by a promoted node, one before
/// the switch point, or more WAL than <c>max_lag_on_failover</c> allows) is a violation.</para>
/// </summary>
internal sealed record WriteAnalysis(
    TimeSpan FaultAt,
    bool FailedOver,
    double? FailoverSeconds,
    IReadOnlyList<long> LostIds,
    long LostBytes,
    int SplitBrainWrites,
    IReadOnlyList<string> Violations)
{
    /// <summary>The monitor's default <c>max_lag_on_failover</c>, which the soak's configuration keeps.</summary>
    private const long MaxLagOnFailover = 16L * 1024 * 1024;

    private const ulong CommitRecordSlack = 4096;

    public static async Task<WriteAnalysis> AnalyseAsync(
        ISoakCluster cluster, string? survivor, IReadOnlyList<Ack> acks, IReadOnlyDictionary<string, TimeSpan> observedPromotions, TimeSpan faultAt)
    {
        var violations = new List<string>();
        var termStart = new Dictionary<string, TimeSpan> { [cluster.Primary.Name] = TimeSpan.Zero };
        foreach (var (node, at) in observedPromotions)
        {
            termStart[node] = at;
        }

        foreach (var first in acks.Where(a => a.Node != cluster.Primary.Name).GroupBy(a => a.Node).Select(g => g.First()))
        {
            termStart[first.Node] = termStart.TryGetValue(first.Node, out var seen) && seen < first.At ? seen : first.At;
        }

        var splitBrain = acks.Where(a => termStart.Any(t => t.Key != a.Node && t.Value > termStart[a.Node] && t.Value < a.At)).ToList();
        if (splitBrain.Count > 0)
        {
            violations.Add($"{splitBrain.Count} split-brain write(s): ids {splitBrain[0].Id}-{splitBrain[^1].Id} acknowledged by {string.Join(",", splitBrain.Select(a => a.Node).Distinct())} after {string.Join(",", termStart.Where(t => t.Value > TimeSpan.Zero).Select(t => $"{t.Key} was promoted at {t.Value.TotalSeconds:0.000}s"))}");
        }

        var failedOver = termStart.Count > 1;
        var firstElsewhere = acks.FirstOrDefault(a => a.Node != cluster.Primary.Name && a.At > faultAt);
        double? failoverSeconds = firstElsewhere is null ? null : (firstElsewhere.At - faultAt).TotalSeconds;

        if (survivor is null)
        {
            // Without a single primary there is no reference to count losses against; the settle check already failed.
            return new WriteAnalysis(faultAt, failedOver, failoverSeconds, [], 0, splitBrain.Count, violations);
        }

        var survivorNode = cluster.Nodes.Single(n => n.Name == survivor);
        HashSet<long> kept;
        try
        {
            kept = await IdsAsync(survivorNode);
        }
        catch (NpgsqlException e)
        {
            // It held when checked; down now means something stopped it after the round had settled: keep the evidence.
            violations.Add($"the settled primary {survivor} stopped answering before its rows could be counted: {e.Message}");
            return new WriteAnalysis(faultAt, failedOver, failoverSeconds, [], 0, splitBrain.Count, violations);
        }

        var lost = acks.Where(a => !kept.Contains(a.Id)).ToList();
        long lostBytes = 0;
        if (lost.Count > 0)
        {
            var switchPoint = await SwitchPointAsync(survivorNode);
            var unexplained = lost.Where(a => switchPoint is not { } point || a.Node != cluster.Primary.Name || (ulong)a.Lsn + CommitRecordSlack < (ulong)point).ToList();
            lostBytes = switchPoint is { } p ? Math.Max(0, (long)((ulong)lost.Max(a => a.Lsn) - (ulong)p)) : 0;
            if (unexplained.Count > 0)
            {
                violations.Add($"{unexplained.Count} lost write(s) that asynchronous replication does not explain (acknowledged by a node other than the failed primary, or before the survivor's switch point): ids {string.Join(",", unexplained.Take(10).Select(a => $"{a.Id}@{a.Node}/{a.Lsn}"))} (switch point {switchPoint?.ToString() ?? "none"})");
            }

            if (lostBytes > MaxLagOnFailover)
            {
                violations.Add($"{lostBytes} bytes of acknowledged WAL lost, above max_lag_on_failover {MaxLagOnFailover}");
            }
        }

        return new WriteAnalysis(faultAt, failedOver, failoverSeconds, [.. lost.Select(a => a.Id)], lostBytes, splitBrain.Count, violations);
    }

    private static async Task<HashSet<long>> IdsAsync(LocalPostgresServer node)
    {
        await using var connection = new NpgsqlConnection(node.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id FROM soak", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new HashSet<long>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    /// <summary>Where the node's current timeline left the one before (the last line of its timeline history file); null on timeline 1.</summary>
    private static async Task<NpgsqlLogSequenceNumber?> SwitchPointAsync(LocalPostgresServer node)
    {
        var walFile = await node.QueryScalarAsync<string>("SELECT pg_walfile_name(pg_current_wal_lsn())", CancellationToken.None);
        var timeline = int.Parse(walFile[..8], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (timeline == 1)
        {
            return null;
        }

        var history = await node.QueryScalarAsync<string>($"SELECT pg_read_file('pg_wal/{timeline:X8}.history')", CancellationToken.None);
        var last = history.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Split('\t');
        return NpgsqlLogSequenceNumber.Parse(last[1]);
    }
}
