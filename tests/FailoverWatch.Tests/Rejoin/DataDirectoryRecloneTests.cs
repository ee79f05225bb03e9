using FailoverWatch.Rejoin;

namespace FailoverWatch.Tests.Rejoin;

public sealed class DataDirectoryRecloneTests
{
    [Theory]
    [InlineData(100, 100, 0, true)]
    [InlineData(101, 100, 0, false)]
    [InlineData(150, 100, 50, true)]
    [InlineData(151, 100, 50, false)]
    [InlineData(0, 0, 0, true)]
    public void the_fresh_copy_must_fit_in_the_free_space_plus_the_older_aside_copy_it_replaces(long needed, long free, long reclaimable, bool fits) =>
        Assert.Equal(fits, DataDirectoryReclone.Fits(needed, free, reclaimable));
}
