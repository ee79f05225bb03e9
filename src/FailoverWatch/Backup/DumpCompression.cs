using System.IO.Compression;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace FailoverWatch.Backup;

/// <summary>The dump's compressor, chosen by <c>backup.postgres.compression</c>, and the matching decompressor for verify and restore.</summary>
internal static class DumpCompression
{
    public static string FileName(string compression) => compression switch
    {
        "zstd" => "dumpall.sql.zst",
        "gzip" => "dumpall.sql.gz",
        _ => "dumpall.sql",
    };

    public static Stream Compress(Stream output, string compression, int level) => compression switch
    {
        "zstd" => Zstd(output, level == 0 ? 3 : level),
        // 0 is the default: gzip's own (6), what an operator writing "gzip" expects.
        "gzip" => new GZipStream(output, level == 1 ? CompressionLevel.Fastest : level >= 9 ? CompressionLevel.SmallestSize : CompressionLevel.Optimal, leaveOpen: true),
        _ => new NonClosingStream(output),
    };

    public static Stream Decompress(Stream input, string compression) => compression switch
    {
        "zstd" => new DecompressionStream(input, leaveOpen: true),
        "gzip" => new GZipStream(input, CompressionMode.Decompress, leaveOpen: true),
        _ => new NonClosingStream(input),
    };

    public static string CompressionOf(string path) =>
        path.EndsWith(".zst", StringComparison.Ordinal) ? "zstd" : path.EndsWith(".gz", StringComparison.Ordinal) ? "gzip" : "none";

    /// <summary>zstd's own worker threads compress while we read pg_dumpall: the pipeline is then bound by pg_dumpall alone.</summary>
    public static int ZstdWorkers => Math.Clamp(Environment.ProcessorCount - 1, 1, 4);

    // The machine's libzstd when there is one (what `zstd` itself runs, about twice as fast), else the managed port.
    private static Stream Zstd(Stream output, int level) => Zstd(output, level, native: LibZstd.IsAvailable);

    internal static Stream Zstd(Stream output, int level, bool native)
    {
        if (native)
        {
            return new NativeZstdCompressionStream(output, level, ZstdWorkers);
        }

        var stream = new CompressionStream(output, level, leaveOpen: true);
        stream.SetParameter(ZSTD_cParameter.ZSTD_c_nbWorkers, ZstdWorkers);
        return stream;
    }
}
