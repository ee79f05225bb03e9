using FailoverWatch.Failover;
using FailoverWatch.Monitoring;

namespace FailoverWatch.Tests.Failover;

/// <summary>The primary's position is written when unknown or once it moved materially: a WAL segment, or half the loss allowed when less.</summary>
public sealed class PrimaryPositionSaveTests
{
    private const long Mb16 = 16L << 20;
    private const long Gb1 = 1L << 30;

    [Theory]
    [InlineData(null, 5000UL, Mb16, true)]
    [InlineData(5000UL, 5000UL, Mb16, false)]
    [InlineData(5000UL, 4000UL, Mb16, false)]
    [InlineData(0UL, (8UL << 20) - 1, Mb16, false)]
    [InlineData(0UL, 8UL << 20, Mb16, true)]
    [InlineData(0UL, (16UL << 20) - 1, Gb1, false)]
    [InlineData(0UL, 16UL << 20, Gb1, true)]
    [InlineData(0UL, 1UL, 0L, true)]
    [InlineData(0UL, 0UL, 0L, false)]
    [InlineData(0UL, 499UL, 1000L, false)]
    [InlineData(0UL, 500UL, 1000L, true)]
    public void due(ulong? saved, ulong current, long maxLag, bool due) =>
        Assert.Equal(due, PrimaryPositionSave.Due(saved is { } s ? new Lsn(s) : null, new Lsn(current), maxLag));
}
