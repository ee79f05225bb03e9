using System.Globalization;
using FailoverWatch.Configuration;

namespace FailoverWatch.Backup.Store;

/// <summary>
/// Which complete backups to keep: the newest <c>keep_last</c>; the newest of each of the <c>keep_daily</c> most recent
/// UTC days that have a backup; the same for ISO weeks with <c>keep_weekly</c>; each counted among the backups that hold
/// a kind, for every kind. The newest is always kept, and so is the newest backup holding each kind: a week of
/// <c>--only secrets</c> runs never deletes the last dump. Pure: the caller applies it only after a publish, to complete
/// backups only, so a failed kind is never counted.
/// </summary>
internal static class RetentionPolicy
{
    /// <summary>One complete backup: its id and the kinds it holds (none known when its manifest cannot be read).</summary>
    public sealed record Candidate(string Id, IReadOnlyCollection<string> Kinds);

    public static IReadOnlySet<string> Keep(IReadOnlyList<Candidate> complete, RetentionOptions retention)
    {
        var newestFirst = complete.OrderByDescending(c => c.Id, StringComparer.Ordinal).ToList();
        var keep = new HashSet<string>(StringComparer.Ordinal);
        if (newestFirst.Count == 0)
        {
            return keep;
        }

        keep.Add(newestFirst[0].Id);

        // Counted per kind: ten nights of failed dumps beside good certificate backups still leave keep_last dumps.
        // A backup whose manifest cannot be read counts among its like (kind ""), as before kinds were counted.
        var byKind = newestFirst
            .SelectMany(c => c.Kinds.Count == 0 ? [(Kind: "", c.Id)] : c.Kinds.Select(kind => (Kind: kind, c.Id)))
            .GroupBy(k => k.Kind, k => k.Id, StringComparer.Ordinal);
        foreach (var ids in byKind.Select(g => g.ToList()))
        {
            keep.UnionWith(ids.Take(Math.Max(1, retention.KeepLast)));
            keep.UnionWith(NewestPerPeriod(ids, t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Take(retention.KeepDaily));
            keep.UnionWith(NewestPerPeriod(ids, t => string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(t)}-W{ISOWeek.GetWeekOfYear(t):00}")).Take(retention.KeepWeekly));
        }

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
