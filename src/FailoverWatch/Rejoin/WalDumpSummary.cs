using System.Globalization;
using System.Text.RegularExpressions;
using FailoverWatch.Monitoring;

namespace FailoverWatch.Rejoin;

/// <summary>A relation a WAL record touched, as <c>pg_waldump</c> writes it: <c>rel TABLESPACE/DATABASE/FILENODE</c>.</summary>
internal readonly record struct RelFileLocator(uint Tablespace, uint Database, uint FileNode)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Tablespace}/{Database}/{FileNode}");
}

/// <summary>What <c>pg_waldump</c> printed for the WAL past a fork: the records, their commits and the relations they wrote.</summary>
internal sealed partial record WalDumpSummary(
    int Records, int Commits, Lsn? EndLsn, DateTimeOffset? FirstCommitAt, DateTimeOffset? LastCommitAt, IReadOnlyList<RelFileLocator> Relations)
{
    public static WalDumpSummary Parse(string output)
    {
        var (records, commits) = (0, 0);
        Lsn? end = null;
        DateTimeOffset? first = null, last = null;
        var relations = new List<RelFileLocator>();
        foreach (var line in output.Split('\n'))
        {
            var record = RecordLine().Match(line);
            if (!record.Success)
            {
                continue;
            }

            records++;
            end = new Lsn(Lsn.Parse(record.Groups["lsn"].Value).Value + ulong.Parse(record.Groups["total"].Value, CultureInfo.InvariantCulture));
            var commit = CommitDescription().Match(line);
            if (commit.Success)
            {
                commits++;
                var at = DateTimeOffset.ParseExact(commit.Groups["at"].Value, ["yyyy-MM-dd HH:mm:ss.FFFFFF", "yyyy-MM-dd HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
                first ??= at;
                last = at;
            }

            foreach (Match rel in RelationReference().Matches(line))
            {
                var locator = new RelFileLocator(
                    uint.Parse(rel.Groups[1].Value, CultureInfo.InvariantCulture),
                    uint.Parse(rel.Groups[2].Value, CultureInfo.InvariantCulture),
                    uint.Parse(rel.Groups[3].Value, CultureInfo.InvariantCulture));
                if (!relations.Contains(locator))
                {
                    relations.Add(locator);
                }
            }
        }

        return new WalDumpSummary(records, commits, end, first, last, relations);
    }

    [GeneratedRegex(@"len \(rec/tot\):\s*\d+/\s*(?<total>\d+),.*\blsn: (?<lsn>[0-9A-F]+/[0-9A-F]+)")]
    private static partial Regex RecordLine();

    // pg_waldump runs with TZ=UTC, so commit times come out in UTC whatever the host's zone.
    [GeneratedRegex(@"desc: COMMIT(?:_PREPARED)? (?<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)")]
    private static partial Regex CommitDescription();

    [GeneratedRegex(@"\brel (\d+)/(\d+)/(\d+)")]
    private static partial Regex RelationReference();
}
