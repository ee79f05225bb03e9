using System.Globalization;
using FailoverWatch.LocalServers;

namespace FailoverWatch.Soak;

/// <summary>One command a monitor ran, as <c>act.sh</c> logged it: wall-clock start and end (end null while it never returned).</summary>
internal sealed record MonitorAction(string Monitor, string Kind, string Target, string Token, DateTimeOffset Start, DateTimeOffset? End);

/// <summary>
/// Who acted in a round, from evidence the monitors do not write about themselves: the action logs of the
/// <c>act.sh</c> wrapper around every fence, stop and hook command, and PostgreSQL's own
/// "received promote request" lines.
/// </summary>
internal sealed record ActingEvidence(IReadOnlyList<MonitorAction> Actions, IReadOnlyDictionary<string, int> PromoteRequests)
{
    public int Promotions => PromoteRequests.Values.Sum();

    public static async Task<ActingEvidence> ReadAsync(CoordinatedCluster cluster)
    {
        var actions = new List<MonitorAction>();
        foreach (var log in Directory.GetFiles(cluster.ActionsDirectory, "*.log"))
        {
            var open = new Dictionary<(string Monitor, string Kind, string Target), List<MonitorAction>>();
            foreach (var words in (await File.ReadAllLinesAsync(log)).Select(l => l.Split(' ')).Where(w => w.Length >= 6))
            {
                var at = DateTimeOffset.FromUnixTimeMilliseconds((long)(double.Parse(words[1], CultureInfo.InvariantCulture) * 1000));
                var key = (words[2], words[3], words[4]);
                if (words[0] == "START")
                {
                    var action = new MonitorAction(words[2], words[3], words[4], words[5], at, null);
                    actions.Add(action);
                    open.TryAdd(key, []);
                    open[key].Add(action);
                }
                else if (open.TryGetValue(key, out var started) && started.Count > 0)
                {
                    // The earliest still open of the same monitor, kind and target is the one that ended.
                    actions[actions.IndexOf(started[0])] = started[0] with { End = at };
                    started.RemoveAt(0);
                }
            }
        }

        var promotes = new Dictionary<string, int>();
        foreach (var node in cluster.Nodes)
        {
            promotes[node.Name] = File.Exists(node.LogFile) ? (await ReadSharedAsync(node)).Split('\n').Count(l => l.Contains("received promote request", StringComparison.Ordinal)) : 0;
        }

        return new ActingEvidence([.. actions.OrderBy(a => a.Start)], promotes);
    }

    /// <summary>
    /// Acting by more than one monitor: two monitors' commands running at the same time, or a monitor acting again
    /// after another one had acted (a stale leader: the one that took over acts from then on).
    /// </summary>
    public IEnumerable<string> Violations(DateTimeOffset roundEnd)
    {
        foreach (var (a, b) in Actions.SelectMany((a, i) => Actions.Skip(i + 1).Select(b => (a, b))).Where(p => p.a.Monitor != p.b.Monitor))
        {
            if (b.Start < (a.End ?? roundEnd))
            {
                yield return $"two monitors acting at once: {Describe(a)} and {Describe(b)}";
            }
        }

        var actors = Actions.Select(a => a.Monitor).Aggregate(new List<string>(), (list, m) =>
        {
            if (list.Count == 0 || list[^1] != m)
            {
                list.Add(m);
            }

            return list;
        });
        if (actors.Count != actors.Distinct().Count())
        {
            yield return $"a monitor acted again after another had acted ({string.Join(" -> ", actors)}): {string.Join("; ", Actions.Select(Describe))}";
        }
    }

    /// <summary>Who did what, in order, e.g. "fw2 fence pg1, fw2 on_failover pg2".</summary>
    public string Summary => Actions.Count == 0 ? "-" : string.Join(", ", Actions.Select(a => $"{a.Monitor} {a.Kind} {a.Target}"));

    private static string Describe(MonitorAction a) =>
        string.Create(CultureInfo.InvariantCulture, $"{a.Monitor} {a.Kind} {a.Target} (token {a.Token}) {a.Start:HH:mm:ss.fff}-{(a.End is { } end ? end.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture) : "never ended")}");

    /// <summary>The server log, read while the server may still write it.</summary>
    private static async Task<string> ReadSharedAsync(LocalPostgresServer node)
    {
        await using var stream = new FileStream(node.LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
