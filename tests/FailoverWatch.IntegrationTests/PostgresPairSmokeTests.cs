using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.IntegrationTests;

public sealed class PostgresPairSmokeTests
{
    [Fact]
    public async Task pair_starts_with_standby_in_recovery()
    {
        await using var pair = await PostgresPair.StartAsync();
        Assert.False(await pair.Primary.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
        Assert.True(await pair.Standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
    }
}
