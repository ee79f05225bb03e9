using System.Globalization;

namespace FailoverWatch.Monitoring;

/// <summary>A WAL position (PostgreSQL's <c>pg_lsn</c>), written <c>16/B374D848</c>.</summary>
internal readonly record struct Lsn(ulong Value) : IComparable<Lsn>
{
    public static Lsn Parse(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            throw new FormatException($"'{text}' is not a WAL position");
        }

        var high = ulong.Parse(text.AsSpan(0, slash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var low = ulong.Parse(text.AsSpan(slash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return new Lsn((high << 32) | low);
    }

    public static Lsn? ParseOrNull(string? text) => text is null ? null : Parse(text);

    /// <summary>Bytes from <paramref name="behind"/> up to this position; 0 when it is not behind.</summary>
    public long BytesAhead(Lsn behind) => Value > behind.Value ? (long)(Value - behind.Value) : 0;

    public int CompareTo(Lsn other) => Value.CompareTo(other.Value);

    public static bool operator <(Lsn left, Lsn right) => left.Value < right.Value;

    public static bool operator >(Lsn left, Lsn right) => left.Value > right.Value;

    public static bool operator <=(Lsn left, Lsn right) => left.Value <= right.Value;

    public static bool operator >=(Lsn left, Lsn right) => left.Value >= right.Value;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Value >> 32:X}/{Value & 0xFFFFFFFF:X}");

    public static Lsn Max(Lsn a, Lsn b) => a >= b ? a : b;
}
