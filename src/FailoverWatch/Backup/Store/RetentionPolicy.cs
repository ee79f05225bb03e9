using System.Globalization;
using FailoverWatch.Configuration;

namespace FailoverWatch.Backup.Store;

/// <summary>
/// Which complete backups to keep: the newest <c>keep_last</c>; the newest of each of the <c>keep_daily</c> most recent
/// UTC days that have a backup; the same for ISO weeks with <c>keep_weekly</c>. The newest is always kept. Pure: the
/// caller applies it only after a successful run, to complete backups only, so a failed run is never counted.
/// </summary>
internal static class RetentionPolicy
{
    public static IReadOnlySet<string> Keep(IReadOnlyList<string> completeIds, RetentionOptions retention)
    {
        var newestFirst = completeIds.Order(StringComparer.Ordinal).Reverse().ToList();
        var keep = new HashSet<string>(StringComparer.Ordinal);
        if (newestFirst.Count == 0)
        {
            return keep;
        }

        keep.Add(newestFirst[0]);
        keep.UnionWith(newestFirst.Take(retention.KeepLast));
        keep.UnionWith(NewestPerPeriod(newestFirst, t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Take(retention.KeepDaily));
        keep.UnionWith(NewestPerPeriod(newestFirst, t => string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(t)}-W{ISOWeek.GetWeekOfYear(t):00}")).Take(retention.KeepWeekly));
        return keep;
    }

    public static IReadOnlyList<string> Delete(IReadOnlyList<string> completeIds, RetentionOptions retention)
    {
        var keep = Keep(completeIds, retention);
        return completeIds.Where(id => !keep.Contains(id)).ToList();
    }

    private static IEnumerable<string> NewestPerPeriod(List<string> newestFirst, Func<DateTime, string> period) =>
        newestFirst.GroupBy(id => period(BackupStore.TimeOf(id).UtcDateTime), StringComparer.Ordinal).Select(g => g.First());
}
