using System.Text;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Tests.Backup;

public sealed class DumpCompressionTests
{
    [Theory]
    [InlineData("zstd")]
    [InlineData("gzip")]
    [InlineData("none")]
    public void every_compression_round_trips_a_multi_megabyte_stream(string compression)
    {
        var text = new StringBuilder();
        for (var i = 0; i < 200_000; i++)
        {
            text.Append(i).Append("\tsome row of a table\t").Append(i * 7).Append('\n');
        }

        var original = Encoding.UTF8.GetBytes(text.ToString());
        using var file = new MemoryStream();
        using (var compressor = DumpCompression.Compress(file, compression, 0))
        {
            for (var i = 0; i < original.Length; i += 70_000)
            {
                compressor.Write(original, i, Math.Min(70_000, original.Length - i));
            }
        }

        file.Position = 0;
        using var decompressor = DumpCompression.Decompress(file, compression);
        using var back = new MemoryStream();
        decompressor.CopyTo(back);
        Assert.Equal(original, back.ToArray());
        if (compression != "none")
        {
            Assert.True(file.Length < original.Length / 3, $"{compression} made {file.Length} bytes of {original.Length}");
        }
    }

    [Fact]
    public void the_machine_libzstd_is_used_when_present()
    {
        using var sink = new MemoryStream();
        using var stream = DumpCompression.Compress(sink, "zstd", 3);
        Assert.Equal(LibZstd.IsAvailable, stream is NativeZstdCompressionStream);
    }
}
