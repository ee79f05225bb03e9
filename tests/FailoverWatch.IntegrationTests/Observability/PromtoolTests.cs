using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Processes;

namespace FailoverWatch.IntegrationTests.Observability;

/// <summary>The alert rules through Prometheus's own tool, so <c>dotnet test</c> in CI runs them.</summary>
public sealed class PromtoolTests
{
    // Debian's prometheus package (2.42) installs it here.
    private const string Promtool = "/usr/bin/promtool";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task alert_rules_pass_promtool_check()
    {
        var result = await ExternalProcess.RunAsync(Promtool, ["check", "rules", RepositoryFiles.Path("grafana", "alerts.yml")], Timeout, CancellationToken.None);
        Assert.True(result.Succeeded, $"promtool check rules: {result.Describe()}\n{result.StandardOutput}\n{result.StandardError}");
        Assert.Contains("SUCCESS", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task alert_rules_pass_promtool_tests()
    {
        var result = await ExternalProcess.RunAsync(Promtool, ["test", "rules", RepositoryFiles.Path("grafana", "alerts.test.yml")], Timeout, CancellationToken.None);
        Assert.True(result.Succeeded, $"promtool test rules: {result.Describe()}\n{result.StandardOutput}\n{result.StandardError}");
    }

    [Fact]
    public void every_alert_has_a_firing_and_a_not_firing_promtool_test()
    {
        var rules = PromQl.AlertNames(RepositoryFiles.Path("grafana", "alerts.yml"));
        var cases = PromQl.AlertTestCases(RepositoryFiles.Path("grafana", "alerts.test.yml"));

        Assert.True(rules.Count >= 12, $"only {rules.Count} alerts found in alerts.yml");
        var gaps = new List<string>();
        foreach (var rule in rules)
        {
            var ofRule = cases.Where(c => c.AlertName == rule).ToList();
            if (!ofRule.Any(c => c.ExpectedAlerts > 0))
            {
                gaps.Add($"{rule}: no case where it fires");
            }

            if (!ofRule.Any(c => c.ExpectedAlerts == 0))
            {
                gaps.Add($"{rule}: no case where it stays quiet");
            }
        }

        Assert.True(gaps.Count == 0, string.Join('\n', gaps));
    }
}
