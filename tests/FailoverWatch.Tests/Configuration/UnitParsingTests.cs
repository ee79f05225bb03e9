using FailoverWatch.Configuration;

namespace FailoverWatch.Tests.Configuration;

public sealed class UnitParsingTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5000)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("0.25s", 250)]
    public void durations_parse(string text, double milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var duration));
        Assert.Equal(milliseconds, duration.TotalMilliseconds);
    }

    [Theory]
    [InlineData("5x")]
    [InlineData("-1s")]
    [InlineData("s")]
    [InlineData("")]
    [InlineData("5")]
    public void bad_durations_are_refused(string text) => Assert.False(Duration.TryParse(text, out _));

    [Theory]
    [InlineData("16MB", 16L << 20)]
    [InlineData("512kB", 512L << 10)]
    [InlineData("1GB", 1L << 30)]
    [InlineData("100", 100)]
    public void sizes_parse(string text, long bytes)
    {
        Assert.True(ByteSize.TryParse(text, out var size));
        Assert.Equal(bytes, size.Bytes);
    }

    [Theory]
    [InlineData("16XB")]
    [InlineData("-1MB")]
    [InlineData("MB")]
    public void bad_sizes_are_refused(string text) => Assert.False(ByteSize.TryParse(text, out _));

    [Theory]
    [InlineData(12, "12s")]
    [InlineData(300, "5m")]
    [InlineData(245, "4m5s")]
    [InlineData(11520, "3h12m")]
    [InlineData(183600, "2d3h")]
    [InlineData(-3, "0s")]
    public void ages_read_as_people_write_them(int seconds, string text) => Assert.Equal(text, Duration.Human(TimeSpan.FromSeconds(seconds)));
}
