using System.Globalization;
using System.Text;
using System.Text.Json;
using FailoverWatch.LocalServers;
using FailoverWatch.Monitoring;
using FailoverWatch.Processes;
using FailoverWatch.State;

namespace FailoverWatch.Rejoin;

/// <summary>
/// Saves what only a diverged node has, before anything rewinds it: its WAL segments from the fork point to their
/// end and the source's timeline history under <c>SALVAGE_DIR/&lt;UTC id&gt;-&lt;node&gt;/wal/</c>, and a summary
/// read with <c>pg_waldump</c>. WAL plus a summary names what was lost; it does not give rows back.
/// </summary>
internal sealed class WalSalvage(PostgresBinaries binaries, string dataDirectory, string node, string salvageDirectory, TimeProvider time)
{
    private const long SegmentSize = 16L * 1024 * 1024;

    /// <returns>The salvage record, or null when the node has no WAL past the fork (nothing to save, nothing to rewind).</returns>
    /// <exception cref="RejoinRefusedException">The WAL could not be read or saved: nothing must be rewound then.</exception>
    public async Task<SalvageRecord?> SaveAsync(int timeline, Lsn fork, byte[] sourceHistory, int sourceTimeline, RejoinSource source, CancellationToken cancellationToken)
    {
        var walDirectory = Path.Combine(dataDirectory, "pg_wal");
        var forkSegment = (long)(fork.Value / SegmentSize);
        var segments = Directory.GetFiles(walDirectory)
            .Select(path => (Path: path, Name: Path.GetFileName(path)))
            .Where(f => f.Name.Length == 24 && f.Name.All(char.IsAsciiHexDigitUpper) && int.Parse(f.Name[..8], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == timeline)
            .Select(f => (f.Path, Number: long.Parse(f.Name[8..16], NumberStyles.HexNumber, CultureInfo.InvariantCulture) * 0x100000000L / SegmentSize + long.Parse(f.Name[16..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)))
            .Where(s => s.Number >= forkSegment)
            .OrderBy(s => s.Number)
            .ToList();
        if (segments.Count == 0)
        {
            return null;
        }

        // The fork's own segment recycled by a checkpoint of the isolated node: what lies between is gone.
        var incomplete = segments[0].Number > forkSegment;
        var start = incomplete ? new Lsn((ulong)(segments[0].Number * SegmentSize)) : fork;
        var dump = await WalDumpAsync(walDirectory, timeline, start, Path.GetFileName(segments[0].Path), cancellationToken);
        if (dump.Records == 0)
        {
            return null;
        }

        var id = string.Create(CultureInfo.InvariantCulture, $"{time.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}-{node}");
        var folder = UnusedFolder(Path.Combine(salvageDirectory, id));
        try
        {
            var wal = Path.Combine(folder, "wal");
            Directory.CreateDirectory(wal);
            foreach (var (path, _) in segments)
            {
                File.Copy(path, Path.Combine(wal, Path.GetFileName(path)));
            }

            await File.WriteAllBytesAsync(Path.Combine(wal, TimelineHistory.FileName(sourceTimeline)), sourceHistory, cancellationToken);
            var ownHistory = Path.Combine(walDirectory, TimelineHistory.FileName(timeline));
            if (File.Exists(ownHistory))
            {
                File.Copy(ownHistory, Path.Combine(wal, Path.GetFileName(ownHistory)));
            }

            var relations = await NameRelationsAsync(source, dump.Relations, cancellationToken);
            var end = dump.EndLsn ?? start;
            var record = new SalvageRecord(
                dump.Commits, end.BytesAhead(start), fork.ToString(), end.ToString(), dump.FirstCommitAt, dump.LastCommitAt, relations, folder,
                incomplete ? fork.ToString() : null);
            await File.WriteAllTextAsync(Path.Combine(folder, "summary.json"), JsonSerializer.Serialize(record, RejoinJsonContext.Default.SalvageRecord) + "\n", cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(folder, "summary.txt"), Describe(record, node, timeline), cancellationToken);
            return record;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RejoinRefusedException(
                $"saving the WAL past the fork to {folder} failed ({e.Message}), so nothing was rewound: free or fix the salvage folder (--salvage-dir), then run rejoin again.");
        }
    }

    private async Task<WalDumpSummary> WalDumpAsync(string walDirectory, int timeline, Lsn start, string startSegment, CancellationToken cancellationToken)
    {
        // The start segment named: else pg_waldump takes the segment size from whichever WAL file the directory lists
        // first, and a preallocated zero-filled one (after a write burst) fails it: "header specifies 0 bytes".
        var (program, arguments) = OsUser.AsServerAccount(
            binaries.Tool("pg_waldump"),
            ["--path", walDirectory, "--timeline", timeline.ToString(CultureInfo.InvariantCulture), "--start", start.ToString(), startSegment]);
        var result = await ExternalProcess.RunAsync(program, arguments, TimeSpan.FromMinutes(10), cancellationToken, new Dictionary<string, string> { ["TZ"] = "UTC" });

        // pg_waldump always ends with an error at the end of the WAL; one that stopped it before any record is another matter.
        var summary = WalDumpSummary.Parse(result.StandardOutput);
        if (result.TimedOut || (summary.Records == 0 && !result.StandardError.Contains("invalid record length", StringComparison.Ordinal)
            && !result.StandardError.Contains("could not find a valid record", StringComparison.Ordinal)))
        {
            throw new RejoinRefusedException(
                $"pg_waldump could not read this node's WAL past the fork ({result.Describe()}), so nothing was rewound: check {walDirectory}, then run rejoin again.");
        }

        return summary;
    }

    /// <summary>Naming is a courtesy: a source that cannot answer leaves file locators, and the salvage stands.</summary>
    private static async Task<IReadOnlyList<string>> NameRelationsAsync(RejoinSource source, IReadOnlyList<RelFileLocator> relations, CancellationToken cancellationToken)
    {
        try
        {
            return await source.NameRelationsAsync(relations, cancellationToken);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            return [.. relations.Select(r => r.ToString())];
        }
    }

    private static string Describe(SalvageRecord record, string node, int timeline)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"WAL written on {node} (timeline {timeline}) after the new primary took over at {record.ForkLsn}, saved before pg_rewind removed it.");
        text.AppendLine(CultureInfo.InvariantCulture, $"commits past the fork: {record.Commits}; bytes: {record.Bytes}; from {record.ForkLsn} to {record.EndLsn}");
        text.AppendLine(CultureInfo.InvariantCulture, $"first commit: {record.FirstCommitAt:O}; last commit: {record.LastCommitAt:O}");
        if (record.IncompleteFrom is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"incomplete from LSN {record.IncompleteFrom}: the segments holding it were already recycled on {node}.");
        }

        text.AppendLine("relations written:");
        foreach (var relation in record.Relations)
        {
            text.AppendLine("  " + relation);
        }

        text.AppendLine("These are the transactions' WAL records, not rows: read them with pg_waldump --path wal/ --timeline N --start FORK_LSN.");
        return text.ToString();
    }

    /// <summary>
    /// A rejoin run again within the same second (refused, then with <c>--allow-reclone</c>) saves beside the first
    /// salvage, never over it: each run's copy stays whole. One rejoin per node runs at a time (its lock).
    /// </summary>
    private static string UnusedFolder(string folder)
    {
        var candidate = folder;
        for (var n = 2; Directory.Exists(candidate); n++)
        {
            candidate = string.Create(CultureInfo.InvariantCulture, $"{folder}-{n}");
        }

        return candidate;
    }
}
