using FailoverWatch.Configuration;

namespace FailoverWatch.Tests.Configuration;

/// <summary>The one way to find a configured node by name, and to tell whether the host rejoins it.</summary>
public sealed class ClusterOptionsTests
{
    private static readonly ClusterOptions Cluster = new()
    {
        Name = "main",
        Nodes =
        [
            new() { Name = "pg1", Host = "10.0.0.1", RejoinCommand = "ssh pg1 -- failoverwatch rejoin" },
            new() { Name = "pg2", Host = "10.0.0.2", RejoinCommand = "  " },
            new() { Name = "pg3", Host = "10.0.0.3" },
        ],
    };

    [Fact]
    public void node_finds_the_configured_node_and_names_the_one_missing()
    {
        Assert.Same(Cluster.Nodes[1], Cluster.Node("pg2"));
        var missing = Assert.Throws<InvalidOperationException>(() => Cluster.Node("pg9"));
        Assert.Equal("cluster.nodes: no node named 'pg9'", missing.Message);
    }

    [Fact]
    public void find_node_answers_null_for_a_name_not_configured()
    {
        Assert.Same(Cluster.Nodes[2], Cluster.FindNode("pg3"));
        Assert.Null(Cluster.FindNode("pg9"));
        Assert.Null(Cluster.FindNode("PG1"));
    }

    [Theory]
    [InlineData("pg1", true)]
    [InlineData("pg2", false)]
    [InlineData("pg3", false)]
    [InlineData("pg9", false)]
    public void only_a_node_with_a_rejoin_command_is_rejoined_by_the_host(string node, bool rejoined)
    {
        Assert.Equal(rejoined, Cluster.HasRejoinCommand(node));
        Assert.Equal(rejoined, Cluster.FindNode(node)?.HasRejoinCommand() == true);
    }
}
