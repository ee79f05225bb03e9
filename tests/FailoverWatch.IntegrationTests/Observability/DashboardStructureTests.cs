using System.Text.Json;
using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.IntegrationTests.Observability;

/// <summary>The dashboard file as Grafana's import reads it. (No Grafana package here to import it for real.)</summary>
public sealed class DashboardStructureTests
{
    private static readonly string DashboardPath = RepositoryFiles.Path("grafana", "failoverwatch-dashboard.json");

    [Fact]
    public void dashboard_shows_every_contract_metric()
    {
        var used = PromQl.DashboardExpressions(DashboardPath)
            .SelectMany(e => PromQl.MetricNames(e).Select(n => n.Name))
            .ToHashSet(StringComparer.Ordinal);
        var notShown = ContractMetrics.All.Except(used).ToList();
        Assert.True(notShown.Count == 0, "no panel for: " + string.Join(", ", notShown));
    }

    [Fact]
    public void dashboard_takes_its_datasource_and_cluster_as_variables()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var root = document.RootElement;

        var input = Assert.Single(root.GetProperty("__inputs").EnumerateArray());
        Assert.Equal("prometheus", input.GetProperty("pluginId").GetString());

        var variables = root.GetProperty("templating").GetProperty("list").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);
        Assert.Equal("datasource", variables["datasource"].GetProperty("type").GetString());
        Assert.Equal("prometheus", variables["datasource"].GetProperty("query").GetString());
        Assert.Equal("label_values(failoverwatch_node_up, cluster)", variables["cluster"].GetProperty("definition").GetString());

        // Every panel and every query reads the chosen data source, never a fixed one from someone's Grafana.
        var panels = root.GetProperty("panels").EnumerateArray().Where(p => p.GetProperty("type").GetString() != "row").ToList();
        Assert.True(panels.Count >= 15, $"{panels.Count} panels");
        foreach (var panel in panels)
        {
            var title = panel.GetProperty("title").GetString();
            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.True(targets.Count > 0, $"panel {title} has no query");
            Assert.All(targets, t => Assert.Equal("${datasource}", t.GetProperty("datasource").GetProperty("uid").GetString()));
        }

        // Every cluster-scoped query is filtered by the cluster variable (backup metrics have no cluster label).
        var unfiltered = PromQl.DashboardExpressions(DashboardPath)
            .Where(e => !e.Contains("failoverwatch_backup_", StringComparison.Ordinal) && !e.Contains("cluster=\"$cluster\"", StringComparison.Ordinal))
            .ToList();
        Assert.True(unfiltered.Count == 0, "not filtered by $cluster: " + string.Join('\n', unfiltered));
    }

    [Fact]
    public void dashboard_panels_have_unique_ids_and_do_not_overlap()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var panels = document.RootElement.GetProperty("panels").EnumerateArray().ToList();
        var ids = panels.Select(p => p.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());

        var boxes = panels.Select(p =>
        {
            var g = p.GetProperty("gridPos");
            return (Title: p.GetProperty("title").GetString(), X: g.GetProperty("x").GetInt32(), Y: g.GetProperty("y").GetInt32(), W: g.GetProperty("w").GetInt32(), H: g.GetProperty("h").GetInt32());
        }).ToList();
        Assert.All(boxes, b => Assert.True(b.X >= 0 && b.X + b.W <= 24, $"{b.Title} is outside the 24-column grid"));
        for (var i = 0; i < boxes.Count; i++)
        {
            for (var j = i + 1; j < boxes.Count; j++)
            {
                var (a, b) = (boxes[i], boxes[j]);
                var overlap = a.X < b.X + b.W && b.X < a.X + a.W && a.Y < b.Y + b.H && b.Y < a.Y + a.H;
                Assert.False(overlap, $"panels '{a.Title}' and '{b.Title}' overlap");
            }
        }
    }
}
