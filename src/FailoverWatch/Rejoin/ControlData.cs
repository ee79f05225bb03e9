using System.Globalization;
using FailoverWatch.Monitoring;

namespace FailoverWatch.Rejoin;

/// <summary>What <c>pg_controldata</c> says about a data directory: all a rejoin needs to know before it touches it.</summary>
internal sealed record ControlData(string SystemIdentifier, string State, int Timeline, bool Checksums, bool WalLogHints)
{
    /// <summary>A cluster state in which the server writes WAL of its own: never rewound, never stopped by a rejoin.</summary>
    public bool IsPrimaryState => State is "in production" or "shutting down";

    public static ControlData Parse(string output)
    {
        var values = output.Split('\n')
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2)
            .GroupBy(parts => parts[0].Trim(), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First()[1].Trim(), StringComparer.Ordinal);
        string Value(string key) => values.TryGetValue(key, out var value) ? value : throw new FormatException($"pg_controldata printed no '{key}'");

        // As pg_rewind does: a standby that replayed into a newer timeline has it as its minimum recovery point's
        // timeline before any restartpoint puts it in the checkpoint.
        var timeline = int.Parse(Value("Latest checkpoint's TimeLineID"), CultureInfo.InvariantCulture);
        if (values.TryGetValue("Min recovery ending loc's timeline", out var recovery)
            && int.TryParse(recovery, NumberStyles.None, CultureInfo.InvariantCulture, out var recoveryTimeline))
        {
            timeline = Math.Max(timeline, recoveryTimeline);
        }

        return new ControlData(
            Value("Database system identifier"),
            Value("Database cluster state"),
            timeline,
            Value("Data page checksum version") != "0",
            Value("wal_log_hints setting") == "on");
    }
}

/// <summary>One line of a timeline history file: <see cref="Timeline"/> ended at <see cref="SwitchPoint"/>, where its child began.</summary>
internal sealed record TimelineSwitch(int Timeline, Lsn SwitchPoint);

/// <summary>A timeline's history file (<c>0000000N.history</c>): every ancestor timeline and where it was left.</summary>
internal static class TimelineHistory
{
    public static IReadOnlyList<TimelineSwitch> Parse(string text) =>
        [.. text.Split('\n')
            .Select(line => line.Split('#', 2)[0].Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 2)
            .Select(fields => new TimelineSwitch(int.Parse(fields[0], CultureInfo.InvariantCulture), Lsn.Parse(fields[1])))];

    /// <summary>Where the source's history left <paramref name="timeline"/>, or null when that timeline is not one of its ancestors.</summary>
    public static Lsn? ForkPoint(IReadOnlyList<TimelineSwitch> history, int timeline) =>
        history.FirstOrDefault(s => s.Timeline == timeline)?.SwitchPoint;

    public static string FileName(int timeline) => string.Create(CultureInfo.InvariantCulture, $"{timeline:X8}.history");
}
