using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.IntegrationTests.Observability;

/// <summary>No panel and no alert on a metric the host does not export.</summary>
public sealed class DashboardAndAlertMetricNameTests
{
    private static readonly string DashboardPath = RepositoryFiles.Path("grafana", "failoverwatch-dashboard.json");
    private static readonly string AlertsPath = RepositoryFiles.Path("grafana", "alerts.yml");

    // CONTRACT.md's metrics table: the dashboard shows every one of them.
    private static readonly string[] ContractMetrics =
    [
        "failoverwatch_node_up", "failoverwatch_node_is_primary", "failoverwatch_primaries",
        "failoverwatch_replication_lag_bytes", "failoverwatch_replication_receive_lag_bytes",
        "failoverwatch_replication_lag_seconds", "failoverwatch_standby_streaming",
        "failoverwatch_probe_duration_seconds", "failoverwatch_failovers_total",
        "failoverwatch_last_failover_timestamp_seconds", "failoverwatch_auto_failover_enabled",
        "failoverwatch_backup_last_success_timestamp_seconds", "failoverwatch_backup_duration_seconds",
        "failoverwatch_backup_size_bytes", "failoverwatch_backup_failures_total",
    ];

    [Fact]
    public async Task every_metric_in_dashboard_and_alert_rules_is_in_a_real_scrape()
    {
        using var directory = new TempDirectory();
        await using var host = await RunningHost.StartAsync(new() { Cluster = { Name = "test" } }, directory.Path);
        var families = PromQl.ScrapedFamilies(await host.ScrapeAsync());

        var expressions = PromQl.DashboardExpressions(DashboardPath).Select(e => ("dashboard", e))
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
    public void dashboard_shows_every_contract_metric()
    {
        var used = PromQl.DashboardExpressions(DashboardPath)
            .SelectMany(e => PromQl.MetricNames(e).Select(n => n.Name))
            .ToHashSet(StringComparer.Ordinal);
        var notShown = ContractMetrics.Except(used).ToList();
        Assert.True(notShown.Count == 0, "no panel for: " + string.Join(", ", notShown));
    }
}
