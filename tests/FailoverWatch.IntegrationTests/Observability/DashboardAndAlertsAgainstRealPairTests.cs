using System.Text.Json;
using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.IntegrationTests.Observability;

/// <summary>
/// The dashboard and the alert rules against the real thing: the host monitoring a real pair, scraped by a real
/// Prometheus. No panel or alert on a metric we do not export; every query parses and runs.
/// </summary>
public sealed class DashboardAndAlertsAgainstRealPairTests(ObservedPair observed) : IClassFixture<ObservedPair>
{
    private static readonly string DashboardPath = RepositoryFiles.Path("grafana", "failoverwatch-dashboard.json");
    private static readonly string AlertsPath = RepositoryFiles.Path("grafana", "alerts.yml");
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task every_metric_in_dashboard_and_alert_rules_is_in_a_real_scrape()
    {
        // Once the monitor has published a round, the scrape is what Prometheus sees in production.
        var scrape = "";
        await Wait.UntilAsync(
            async () => (scrape = await observed.Host.ScrapeAsync()).Contains("failoverwatch_replication_lag_bytes{", StringComparison.Ordinal),
            Deadline,
            "the host to publish a monitor round");
        var families = PromQl.ScrapedFamilies(scrape);

        var expressions = PromQl.DashboardExpressions(DashboardPath)
            .Concat(PromQl.DashboardVariableQueries(DashboardPath))
            .Select(e => ("dashboard", e))
            .Concat(PromQl.AlertExpressions(AlertsPath).Select(e => ("alerts.yml", e)))
            .ToList();
        Assert.True(expressions.Count > 20, $"only {expressions.Count} expressions found: is the parsing broken?");

        var missing = new List<string>();
        foreach (var (file, expression) in expressions)
        {
            foreach (var (name, fromHistogram) in PromQl.MetricNames(expression))
            {
                if (!families.TryGetValue(name, out var type))
                {
                    missing.Add($"{file}: {name} (in `{expression.Trim()}`)");
                }
                else if (fromHistogram && type != "histogram")
                {
                    missing.Add($"{file}: {name} is a {type}, not a histogram (in `{expression.Trim()}`)");
                }
            }
        }

        Assert.True(missing.Count == 0, "not exported by the host:\n" + string.Join('\n', missing));
    }

    [Fact]
    public async Task prometheus_gets_the_standby_replication_lag_series_from_the_host()
    {
        // The pair is idle and healthy: once scraped after the standby replayed everything, its lag reads 0.
        JsonElement standby = default;
        var value = double.NaN;
        await Wait.UntilAsync(
            async () =>
            {
                var data = await observed.Prometheus.QueryAsync("failoverwatch_replication_lag_bytes");
                standby = data.GetProperty("result").EnumerateArray()
                    .FirstOrDefault(s => s.GetProperty("metric").TryGetProperty("node", out var node) && node.GetString() == "pg2");
                value = standby.ValueKind == JsonValueKind.Object ? double.Parse(standby.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture) : double.NaN;
                return value == 0;
            },
            Deadline,
            $"Prometheus to hold failoverwatch_replication_lag_bytes{{node=\"pg2\"}} 0 for the idle pair (last {value})");

        var labels = standby.GetProperty("metric");
        Assert.Equal(ObservedPair.Cluster, labels.GetProperty("cluster").GetString());
        Assert.Equal(PrometheusServer.JobName, labels.GetProperty("job").GetString());
    }

    [Fact]
    public async Task every_dashboard_query_runs_in_prometheus()
    {
        await WaitForScrapedNodesAsync();
        var failures = new List<string>();
        foreach (var expression in PromQl.DashboardExpressions(DashboardPath))
        {
            var query = PromQl.AsGrafanaWouldSend(expression, ObservedPair.Cluster);
            try
            {
                await observed.Prometheus.QueryAsync(query);
            }
            catch (InvalidOperationException e)
            {
                failures.Add(e.Message);
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));

        // The node panels show both nodes of the monitored cluster.
        var up = await observed.Prometheus.QueryAsync(PromQl.AsGrafanaWouldSend("failoverwatch_node_up{cluster=\"$cluster\"}", ObservedPair.Cluster));
        Assert.Equal<string?>(["pg1", "pg2"], up.GetProperty("result").EnumerateArray().Select(s => s.GetProperty("metric").GetProperty("node").GetString()).Order());
    }

    [Fact]
    public async Task dashboard_cluster_variable_lists_the_monitored_cluster()
    {
        await WaitForScrapedNodesAsync();
        var definition = Assert.Single(PromQl.DashboardVariableQueries(DashboardPath));
        Assert.Equal("label_values(failoverwatch_node_up, cluster)", definition);

        // What Grafana asks Prometheus for label_values(METRIC, LABEL).
        var values = await observed.Prometheus.GetDataAsync("api/v1/label/cluster/values?match[]=failoverwatch_node_up");
        Assert.Contains(ObservedPair.Cluster, values.EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task prometheus_loads_the_alert_rules_and_a_healthy_pair_fires_none()
    {
        // Rules evaluated before the first scrape see no target at all (absent() holds): only evaluations after
        // both nodes were scraped say what a healthy pair fires.
        await WaitForScrapedNodesAsync();
        var scraped = DateTimeOffset.UtcNow;
        List<JsonElement> rules = [];
        await Wait.UntilAsync(
            async () =>
            {
                var data = await observed.Prometheus.GetDataAsync("api/v1/rules");
                rules = data.GetProperty("groups").EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray()).ToList();
                return rules.Count > 0 && rules.All(r => r.GetProperty("health").GetString() != "unknown" && r.GetProperty("lastEvaluation").GetDateTimeOffset() > scraped);
            },
            Deadline,
            "every alert rule evaluated after both nodes were scraped");

        var unhealthy = rules.Where(r => r.GetProperty("health").GetString() != "ok")
            .Select(r => $"{r.GetProperty("name").GetString()}: {r.GetProperty("lastError").GetString()}").ToList();
        Assert.True(unhealthy.Count == 0, string.Join('\n', unhealthy));
        Assert.Equal(PromQl.AlertNames(AlertsPath).Count, rules.Count);

        // Pending counts too: most rules wait minutes (for:) before firing, longer than this test runs.
        var alerts = await observed.Prometheus.GetDataAsync("api/v1/alerts");
        var active = alerts.GetProperty("alerts").EnumerateArray()
            .Where(a => a.GetProperty("state").GetString() is "firing" or "pending")
            .Select(a => $"{a.GetProperty("labels").GetProperty("alertname").GetString()} ({a.GetProperty("state").GetString()})")
            .ToList();
        Assert.True(active.Count == 0, "active on a healthy pair: " + string.Join(", ", active));
    }

    private Task WaitForScrapedNodesAsync() =>
        Wait.UntilAsync(
            async () => (await observed.Prometheus.QueryAsync("failoverwatch_node_up")).GetProperty("result").GetArrayLength() == 2,
            Deadline,
            "Prometheus to scrape both nodes");
}
