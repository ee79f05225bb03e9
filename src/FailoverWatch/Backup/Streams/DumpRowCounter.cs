using System.Runtime.CompilerServices;
using System.Text;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.Backup.Streams;

/// <summary>
/// Counts the rows of every table in a plain pg_dumpall stream as it passes through on its way to the compressor:
/// each table's data is a <c>COPY name (...) FROM stdin;</c> line, one line per row (COPY text escapes newlines), and a
/// <c>\.</c> line; each database starts after a <c>-- Database "name" dump</c> comment. The counts are those of the dump's
/// own snapshot, exactly what a restore loads, and cost no second scan of the tables on the server.
/// </summary>
internal sealed class DumpRowCounter(Stream inner) : ObservingWriteStream(inner)
{
    private const int PrefixLimit = 512;
    private static readonly byte[] CopyPrefix = "COPY "u8.ToArray();
    private static readonly byte[] CopySuffix = " FROM stdin;"u8.ToArray();
    private static readonly byte[] DatabasePrefix = "-- Database \""u8.ToArray();
    private static readonly byte[] DatabaseSuffix = "\" dump"u8.ToArray();

    private readonly List<DatabaseRowCounts> _databases = [];
    private readonly byte[] _prefix = new byte[PrefixLimit];
    private int _prefixLength;
    private long _lineLength;
    private readonly byte[] _suffix = new byte[CopySuffix.Length];
    private string? _copyTable;
    private long _copyRows;

    public IReadOnlyList<DatabaseRowCounts> Databases => _databases;

    // Runs for every line of a multi-gigabyte dump: compiled optimised at once, not after tiering catches up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Observe(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            var newline = data.IndexOf((byte)'\n');
            var piece = newline < 0 ? data : data[..newline];
            Append(piece);
            if (newline < 0)
            {
                return;
            }

            EndOfLine();
            data = data[(newline + 1)..];
        }
    }

    // Runs for every line of a multi-gigabyte dump: compiled optimised at once, not after tiering catches up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Append(ReadOnlySpan<byte> piece)
    {
        // Inside COPY data only "\." matters: two bytes of each row line are enough, the rest is never copied.
        var limit = _copyTable is null ? PrefixLimit : 3;
        if (_prefixLength < limit)
        {
            var take = Math.Min(piece.Length, limit - _prefixLength);
            piece[..take].CopyTo(_prefix.AsSpan(_prefixLength));
            _prefixLength += take;
        }

        // Keep the last bytes of the line: the COPY statement is recognised by its end, whatever its column list.
        if (_copyTable is null && piece.Length > 0)
        {
            if (piece.Length >= _suffix.Length)
            {
                piece[^_suffix.Length..].CopyTo(_suffix);
            }
            else
            {
                var keep = _suffix.Length - piece.Length;
                _suffix.AsSpan(piece.Length, keep).CopyTo(_suffix);
                piece.CopyTo(_suffix.AsSpan(keep));
            }
        }

        _lineLength += piece.Length;
    }

    /// <summary>The qualified name ends at the first space outside double quotes (<c>public."My Table"</c>).</summary>
    private static int NameLength(ReadOnlySpan<byte> text)
    {
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == (byte)'"')
            {
                quoted = !quoted;
            }
            else if (text[i] == (byte)' ' && !quoted)
            {
                return i;
            }
        }

        return text.Length;
    }

    // Runs for every line of a multi-gigabyte dump: compiled optimised at once, not after tiering catches up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EndOfLine()
    {
        var line = _prefix.AsSpan(0, _prefixLength);
        if (_copyTable is not null)
        {
            if (_lineLength == 2 && line.SequenceEqual("\\."u8))
            {
                if (_databases.Count > 0)
                {
                    _databases[^1].Tables[_copyTable] = _copyRows;
                }

                _copyTable = null;
            }
            else
            {
                _copyRows++;
            }
        }
        else if (line.StartsWith(CopyPrefix) && _lineLength >= CopyPrefix.Length + CopySuffix.Length && _suffix.AsSpan().SequenceEqual(CopySuffix))
        {
            var rest = line[CopyPrefix.Length..];
            _copyTable = Encoding.UTF8.GetString(rest[..NameLength(rest)]);
            _copyRows = 0;
        }
        else if (line.StartsWith(DatabasePrefix) && line.EndsWith(DatabaseSuffix) && _lineLength == _prefixLength)
        {
            var name = Encoding.UTF8.GetString(line[DatabasePrefix.Length..^DatabaseSuffix.Length]);
            _databases.Add(new DatabaseRowCounts(name, new SortedDictionary<string, long>(StringComparer.Ordinal)));
        }

        _prefixLength = 0;
        _lineLength = 0;
        Array.Clear(_suffix);
    }
}
