using FailoverWatch.Configuration;

namespace FailoverWatch.Tests.Configuration;

public sealed partial class ConfigValidationTests
{
    [Theory]
    [InlineData("monitor:\n  rejoin_timeout: 0s", "monitor.rejoin_timeout", "above zero and at most 24h")]
    [InlineData("monitor:\n  rejoin_timeout: 25h", "monitor.rejoin_timeout", "at most")]
    [InlineData("monitor:\n  rejoin_retry: 1s", "monitor.rejoin_retry", "between 5s and 24h")]
    [InlineData("monitor:\n  rejoin_retry: 2d", "monitor.rejoin_retry", "between")]
    [InlineData("monitor:\n  rejoin_retry: soon", "monitor.rejoin_retry", "not a duration")]
    public void bad_rejoin_bound_is_named_by_its_key(string extra, string key, string problem)
    {
        var found = Problems(Nodes + extra);
        Assert.Contains(found, p => p.Key == key && p.Problem.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void a_rejoin_command_that_would_reclone_by_itself_is_refused()
    {
        var yaml = Nodes.Replace("port: 5432 }", "port: 5432, rejoin_command: \"ssh pg1 -- --allow-reclone\" }", StringComparison.Ordinal);
        Assert.Contains(Problems(yaml), p => p.Key == "cluster.nodes[0].rejoin_command" && p.Problem.Contains("--allow-reclone", StringComparison.Ordinal));
    }

    [Fact]
    public void rejoin_keys_bind_with_their_defaults()
    {
        var yaml = Nodes.Replace("port: 5432 }", "port: 5432, rejoin_command: \"ssh pg1 -- $FW_NEW_PRIMARY_HOST $FW_NEW_PRIMARY_PORT\", rejoin_user: rewind }", StringComparison.Ordinal);
        var (options, problems) = ConfigLoader.Parse(yaml + "monitor:\n  rejoin_retry: 30s\n", _directory);
        Assert.Empty(problems);
        Assert.Equal("rewind", options!.Cluster.Nodes[0].RejoinUser);
        Assert.StartsWith("ssh pg1", options.Cluster.Nodes[0].RejoinCommand, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Monitor.RejoinRetry);
        Assert.Equal(TimeSpan.FromMinutes(30), options.Monitor.RejoinTimeout);
    }
}
