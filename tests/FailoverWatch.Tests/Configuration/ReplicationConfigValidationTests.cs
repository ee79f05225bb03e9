using FailoverWatch.Configuration;

namespace FailoverWatch.Tests.Configuration;

/// <summary>The <c>replication:</c> section's checks, beside the rest of the file's.</summary>
public sealed partial class ConfigValidationTests
{
    [Fact]
    public void replication_defaults_to_async_with_one_standby_and_five_seconds()
    {
        var (options, problems) = ConfigLoader.Parse(Nodes, _directory);
        Assert.Empty(problems);
        Assert.Equal(ReplicationModes.Async, options!.Replication.Mode);
        Assert.False(options.Replication.Synchronous);
        Assert.Equal(1, options.Replication.Number);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Replication.DegradeAfter);
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("strict")]
    public void a_synchronous_mode_binds(string mode)
    {
        var (options, problems) = ConfigLoader.Parse(Nodes + $"replication:\n  mode: {mode}\n  number: 1\n  degrade_after: 2s\n", _directory);
        Assert.Empty(problems);
        Assert.True(options!.Replication.Synchronous);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Replication.DegradeAfter);
    }

    [Theory]
    [InlineData("  mode: on", "replication.mode: 'on' must be one of async, sync, strict")]
    [InlineData("  mode: true", "replication.mode: 'true' must be one of async, sync, strict")]
    [InlineData("  mode: sync\n  number: 2", "replication.number: 2 must be from 1 to the number of standbys (1)")]
    [InlineData("  number: 0", "replication.number: 0 must be from 1")]
    [InlineData("  degrade_after: 500ms", "replication.degrade_after: 500ms must be from 1s to 10m")]
    [InlineData("  degrade_after: 11m", "replication.degrade_after: 660s must be from 1s to 10m")]
    [InlineData("  degrade: 5s", "replication.degrade: unknown key")]
    public void each_bad_replication_setting_is_one_line_naming_its_key(string replication, string expected)
    {
        Assert.Contains(Problems(Nodes + "replication:\n" + replication).Select(p => p.ToString()), p => p.StartsWith(expected, StringComparison.Ordinal));
    }
}
