using System.Text;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Tests.Backup;

public sealed class DumpCompressionTests
{
    [Theory]
    [InlineData("zstd", false)]
    [InlineData("zstd", true)]
    [InlineData("gzip", false)]
    [InlineData("none", false)]
    public void every_compression_round_trips_a_multi_megabyte_stream(string compression, bool rsyncable)
    {
        var text = new StringBuilder();
        for (var i = 0; i < 200_000; i++)
        {
            text.Append(i).Append("\tsome row of a table\t").Append(i * 7).Append('\n');
        }

        var original = Encoding.UTF8.GetBytes(text.ToString());
        using var file = new MemoryStream();
        using (var compressor = DumpCompression.Compress(file, compression, 0, rsyncable))
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
    public async Task zstd_dumps_are_read_by_the_zstd_command()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fw-zstd-{Guid.NewGuid():N}.zst");
        try
        {
            var original = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 50_000).Select(i => $"{i}\trow {i * 7}\n")));
            await using (var file = File.Create(path))
            {
                await using var compressor = DumpCompression.Compress(file, "zstd", 3, rsyncable: true);
                await compressor.WriteAsync(original);
            }

            var result = await FailoverWatch.Processes.ExternalProcess.RunAsync("zstd", ["-dc", path], TimeSpan.FromMinutes(1), CancellationToken.None);
            Assert.True(result.Succeeded, result.Describe());
            Assert.Equal(Encoding.UTF8.GetString(original), result.StandardOutput);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void rsyncable_zstd_output_resynchronises_after_a_change_near_the_start(bool rsyncable)
    {
        // A dump one row longer near its start, as from one day to the next: with --rsyncable the compressed files
        // share their tail (restic stores it once); without it, nothing after the change matches.
        var random = new Random(19);
        var text = new StringBuilder();
        while (text.Length < 12 << 20)
        {
            text.Append(random.Next()).Append("\tname ").Append(random.Next(1000)).Append("\t").Append(random.NextDouble()).Append('\n');
        }

        var before = Encoding.UTF8.GetBytes(text.ToString());
        var after = Encoding.UTF8.GetBytes(text.ToString().Insert(1000, "42\tone more row\n"));
        var shared = CommonSuffix(Compressed(before, rsyncable), Compressed(after, rsyncable));
        Assert.True(rsyncable ? shared > 1 << 20 : shared < 1 << 10, $"rsyncable={rsyncable}: the two files share their last {shared} bytes");
    }

    private static byte[] Compressed(byte[] original, bool rsyncable)
    {
        using var file = new MemoryStream();
        using (var compressor = DumpCompression.Compress(file, "zstd", 3, rsyncable))
        {
            compressor.Write(original);
        }

        return file.ToArray();
    }

    /// <summary>Bytes the two end with in common, not counting a closing checksum of the whole.</summary>
    private static int CommonSuffix(byte[] a, byte[] b)
    {
        var length = 0;
        for (var skip = 0; skip <= 8 && length == 0; skip++)
        {
            while (length < a.Length - skip && length < b.Length - skip && a[a.Length - skip - 1 - length] == b[b.Length - skip - 1 - length])
            {
                length++;
            }

            length = length > 64 ? length : 0;
        }

        return length;
    }
}
