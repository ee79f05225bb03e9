using System.Globalization;

namespace FailoverWatch.Configuration;

/// <summary>A size in bytes, written in configuration as <c>16MB</c>, <c>512kB</c>, <c>1GB</c> or a plain number.</summary>
internal readonly record struct ByteSize(long Bytes)
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("TB", 1L << 40), ("GB", 1L << 30), ("MB", 1L << 20), ("KB", 1L << 10), ("B", 1),
    ];

    public static ByteSize FromMegabytes(long megabytes) => new(megabytes << 20);

    public static bool TryParse(string text, out ByteSize size)
    {
        size = default;
        var trimmed = text.Trim();
        foreach (var (suffix, factor) in Units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return TryScale(trimmed[..^suffix.Length], factor, out size);
            }
        }

        return TryScale(trimmed, 1, out size);
    }

    private static bool TryScale(string number, long factor, out ByteSize size)
    {
        size = default;
        if (!long.TryParse(number.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            || value > long.MaxValue / factor)
        {
            return false;
        }

        size = new ByteSize(value * factor);
        return true;
    }

    public override string ToString()
    {
        foreach (var (suffix, factor) in Units)
        {
            if (Bytes != 0 && Bytes % factor == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{Bytes / factor}{suffix}");
            }
        }

        return "0B";
    }
}
