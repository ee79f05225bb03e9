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

    /// <summary>An age for people: <c>2d3h</c>, <c>3h12m</c>, <c>4m5s</c>, <c>12s</c>, <c>5m</c> (two units at most, rounded down, a zero second unit left out).</summary>
    public static string Human(TimeSpan age)
    {
        var (first, second) = age switch
        {
            { TotalDays: >= 1 } => ($"{(int)age.TotalDays}d", age.Hours == 0 ? "" : $"{age.Hours}h"),
            { TotalHours: >= 1 } => ($"{age.Hours}h", age.Minutes == 0 ? "" : $"{age.Minutes}m"),
            { TotalMinutes: >= 1 } => ($"{age.Minutes}m", age.Seconds == 0 ? "" : $"{age.Seconds}s"),
            _ => ($"{Math.Max(0, age.Seconds)}s", ""),
        };
        return first + second;
    }
}
