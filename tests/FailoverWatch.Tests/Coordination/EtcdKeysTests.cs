using FailoverWatch.Coordination;

namespace FailoverWatch.Tests.Coordination;

/// <summary>The group's prefix holds the views among other keys: only those under monitors/ are votes.</summary>
public sealed class EtcdKeysTests
{
    private static readonly EtcdKeys Keys = EtcdKeys.For("/failoverwatch", "main");

    [Theory]
    [InlineData("/failoverwatch/main/monitors/fw1", true)]
    [InlineData("/failoverwatch/main/monitors/", true)]
    [InlineData("/failoverwatch/main/leader", false)]
    [InlineData("/failoverwatch/main/state", false)]
    [InlineData("/failoverwatch/main/incidents/monitors/fw1", false)]
    [InlineData("/failoverwatch/main/monitors", false)]
    [InlineData("/failoverwatch/other/monitors/fw1", false)]
    [InlineData("/failoverwatch/main/Monitors/fw1", false)]
    public void only_keys_under_the_groups_monitors_prefix_are_views(string key, bool view)
        => Assert.Equal(view, Keys.IsMonitor(key));

    [Fact]
    public void a_monitors_own_key_is_a_view() => Assert.True(Keys.IsMonitor(Keys.Monitor("fw2")));
}
