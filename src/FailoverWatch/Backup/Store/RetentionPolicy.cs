using System.Globalization;
using FailoverWatch.Configuration;

namespace FailoverWatch.Backup.Store;

/// <summary>
/// Which complete backups to keep: the newest <c>keep_last</c>; the newest of each of the <c>keep_daily</c> most recent
/// UTC days that have a backup; the same for ISO weeks with <c>keep_weekly</c>. The newest is always kept, and so is the
/// newest backup holding each kind: a week of <c>--only secrets</c> runs never deletes the last dump. Pure: the caller
/// applies it only after a successful run, to complete backups only, so a failed run is never counted.
/// </summary>
internal static class RetentionPolicy
{
    /// <summary>One complete backup: its id and the kinds it holds (none known when its manifest cannot be read).</summary>
    public sealed record Candidate(string Id, IReadOnlyCollection<string> Kinds);

    public static IReadOnlySet<string> Keep(IReadOnlyList<Candidate> complete, RetentionOptions retention)
    {
        var newestFirst = complete.OrderByDescending(c => c.Id, StringComparer.Ordinal).ToList();
        var ids = newestFirst.ConvertAll(c => c.Id);
        var keep = new HashSet<string>(StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            return keep;
        }

        keep.Add(ids[0]);
        keep.UnionWith(ids.Take(retention.KeepLast));
        keep.UnionWith(NewestPerPeriod(ids, t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Take(retention.KeepDaily));
        keep.UnionWith(NewestPerPeriod(ids, t => string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(t)}-W{ISOWeek.GetWeekOfYear(t):00}")).Take(retention.KeepWeekly));
        keep.UnionWith(newestFirst.SelectMany(c => c.Kinds.Select(kind => (kind, c.Id))).DistinctBy(k => k.kind, StringComparer.Ordinal).Select(k => k.Id));
        return keep;
    }

    public static IReadOnlyList<string> Delete(IReadOnlyList<Candidate> complete, RetentionOptions retention)
    {
        var keep = Keep(complete, retention);
        return complete.Select(c => c.Id).Where(id => !keep.Contains(id)).ToList();
    }

    private static IEnumerable<string> NewestPerPeriod(List<string> newestFirst, Func<DateTime, string> period) =>
        newestFirst.GroupBy(id => period(BackupStore.TimeOf(id).UtcDateTime), StringComparer.Ordinal).Select(g => g.First());
}
