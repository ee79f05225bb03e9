using System.Text;
using FailoverWatch.Backup;

namespace FailoverWatch.Tests.Backup;

public sealed class DumpCompressionTests
{
    /// <summary>Each compressor the product may pick, named: zstd is the machine's libzstd or the managed port.</summary>
    private static Stream Compressor(Stream file, string compressor) => compressor switch
    {
        "zstd-native" => DumpCompression.Zstd(file, 3, native: true),
        "zstd-managed" => DumpCompression.Zstd(file, 3, native: false),
        _ => DumpCompression.Compress(file, compressor, 0),
    };

    [Theory]
    [InlineData("zstd-native", "zstd")]
    [InlineData("zstd-managed", "zstd")]
    [InlineData("gzip", "gzip")]
    [InlineData("none", "none")]
    public void every_compressor_round_trips_a_multi_megabyte_stream(string compressor, string compression)
    {
        // The native one needs libzstd, which the zstd package (a CI requirement) brings.
        Assert.True(compressor != "zstd-native" || LibZstd.IsAvailable, "libzstd is not installed");
        var text = new StringBuilder();
        for (var i = 0; i < 200_000; i++)
        {
            text.Append(i).Append("\tsome row of a table\t").Append(i * 7).Append('\n');
        }

        var original = Encoding.UTF8.GetBytes(text.ToString());
        using var file = new MemoryStream();
        using (var compress = Compressor(file, compressor))
        {
            for (var i = 0; i < original.Length; i += 70_000)
            {
                compress.Write(original, i, Math.Min(70_000, original.Length - i));
            }
        }

        file.Position = 0;
        using var decompressor = DumpCompression.Decompress(file, compression);
        using var back = new MemoryStream();
        decompressor.CopyTo(back);
        Assert.Equal(original, back.ToArray());
        if (compression != "none")
        {
            Assert.True(file.Length < original.Length / 3, $"{compressor} made {file.Length} bytes of {original.Length}");
        }
    }
}
