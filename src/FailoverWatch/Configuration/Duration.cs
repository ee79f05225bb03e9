using System.Globalization;

namespace FailoverWatch.Configuration;

/// <summary>Parses durations written as <c>500ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c>, <c>1d</c>.</summary>
internal static class Duration
{
    private static readonly (string Suffix, TimeSpan Unit)[] Units =
    [
        ("ms", TimeSpan.FromMilliseconds(1)), ("s", TimeSpan.FromSeconds(1)), ("m", TimeSpan.FromMinutes(1)),
        ("h", TimeSpan.FromHours(1)), ("d", TimeSpan.FromDays(1)),
    ];

    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        var trimmed = text.Trim();
        foreach (var (suffix, unit) in Units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(trimmed[..^suffix.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
                && value * unit.TotalMilliseconds < TimeSpan.MaxValue.TotalMilliseconds)
            {
                duration = TimeSpan.FromMilliseconds(value * unit.TotalMilliseconds);
                return true;
            }
        }

        return false;
    }

    public static string Format(TimeSpan duration) =>
        duration.TotalMilliseconds % 1000 != 0
            ? string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds}ms")
            : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds}s");

    /// <summary>An age for people: <c>2d3h</c>, <c>3h12m</c>, <c>4m5s</c>, <c>12s</c> (two units at most, rounded down).</summary>
    public static string Human(TimeSpan age) => age switch
    {
        { TotalDays: >= 1 } => string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalDays}d{age.Hours}h"),
        { TotalHours: >= 1 } => string.Create(CultureInfo.InvariantCulture, $"{age.Hours}h{age.Minutes}m"),
        { TotalMinutes: >= 1 } => string.Create(CultureInfo.InvariantCulture, $"{age.Minutes}m{age.Seconds}s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, age.Seconds)}s"),
    };
}
