using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace FailoverWatch.IntegrationTests.Observability;

/// <summary>The PromQL in the dashboard and the alert rules, and the FailoverWatch metric names it uses.</summary>
internal static partial class PromQl
{
    private static readonly string[] HistogramSuffixes = ["_bucket", "_sum", "_count"];

    /// <summary>Every <c>expr</c> of the alert rules file.</summary>
    public static IReadOnlyList<string> AlertExpressions(string rulesPath)
    {
        var found = new List<string>();
        CollectYaml(LoadYaml(rulesPath), found);
        return found;
    }

    /// <summary>The names of the alerts in a rules file.</summary>
    public static IReadOnlyList<string> AlertNames(string rulesPath) =>
        LoadYaml(rulesPath)["groups"].AllNodes.OfType<YamlMappingNode>()
            .Where(rule => rule.Children.ContainsKey("alert"))
            .Select(rule => ((YamlScalarNode)rule["alert"]).Value!)
            .ToList();

    /// <summary>Each <c>alert_rule_test</c> case of a promtool test file: the alert and how many alerts it expects.</summary>
    public static IReadOnlyList<(string AlertName, int ExpectedAlerts)> AlertTestCases(string testsPath) =>
        LoadYaml(testsPath)["tests"].AllNodes.OfType<YamlMappingNode>()
            .Where(c => c.Children.ContainsKey("alertname"))
            .Select(c => (
                ((YamlScalarNode)c["alertname"]).Value!,
                c.Children.TryGetValue("exp_alerts", out var expected) && expected is YamlSequenceNode list ? list.Children.Count : 0))
            .ToList();

    /// <summary>Every PromQL query of the dashboard: the <c>expr</c> of panel targets and annotations, wherever they sit.</summary>
    public static IReadOnlyList<string> DashboardExpressions(string dashboardPath) =>
        DashboardStrings(dashboardPath, "expr");

    /// <summary>The queries of the dashboard's template variables (<c>label_values(...)</c>, not PromQL).</summary>
    public static IReadOnlyList<string> DashboardVariableQueries(string dashboardPath) =>
        DashboardStrings(dashboardPath, "definition");

    /// <summary>A dashboard expression with Grafana's variables replaced, as Grafana would send it for cluster <paramref name="cluster"/>.</summary>
    public static string AsGrafanaWouldSend(string expression, string cluster) =>
        expression
            .Replace("$__rate_interval", "5s", StringComparison.Ordinal)
            .Replace("$__interval", "5s", StringComparison.Ordinal)
            .Replace("$__range", "1m", StringComparison.Ordinal)
            .Replace("$cluster", cluster, StringComparison.Ordinal);

    /// <summary>
    /// The <c>failoverwatch_</c> metric names an expression reads. A histogram's <c>_bucket</c>,
    /// <c>_sum</c> and <c>_count</c> series are reported as the histogram's own name.
    /// </summary>
    public static IEnumerable<(string Name, bool FromHistogramSeries)> MetricNames(string expression)
    {
        // Label values are quoted: take them out first so job="failoverwatch_x" is not read as a metric.
        var unquoted = QuotedString().Replace(expression, "\"\"");
        foreach (Match match in FailoverWatchIdentifier().Matches(unquoted))
        {
            var name = match.Value;
            var suffix = HistogramSuffixes.FirstOrDefault(s => name.EndsWith(s, StringComparison.Ordinal));
            yield return suffix is null ? (name, false) : (name[..^suffix.Length], true);
        }
    }

    /// <summary>Metric families in a Prometheus text scrape, by name, with their type.</summary>
    public static IReadOnlyDictionary<string, string> ScrapedFamilies(string scrape)
    {
        var families = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in scrape.Split('\n'))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                families[parts[2]] = parts[3];
            }
        }

        return families;
    }

    private static YamlMappingNode LoadYaml(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            stream.Load(reader);
        }

        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static void CollectYaml(YamlNode node, List<string> found)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is YamlScalarNode { Value: "expr" } && value is YamlScalarNode { Value: { } expr })
                    {
                        found.Add(expr);
                    }
                    else
                    {
                        CollectYaml(value, found);
                    }
                }

                break;
            case YamlSequenceNode sequence:
                foreach (var child in sequence.Children)
                {
                    CollectYaml(child, found);
                }

                break;
        }
    }

    private static List<string> DashboardStrings(string dashboardPath, string propertyName)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(dashboardPath));
        var found = new List<string>();
        CollectJson(document.RootElement, propertyName, found);
        return found;
    }

    private static void CollectJson(JsonElement element, string propertyName, List<string> found)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == propertyName && property.Value.ValueKind == JsonValueKind.String)
                    {
                        found.Add(property.Value.GetString()!);
                    }
                    else
                    {
                        CollectJson(property.Value, propertyName, found);
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    CollectJson(item, propertyName, found);
                }

                break;
        }
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'")]
    private static partial Regex QuotedString();

    [GeneratedRegex(@"(?<![A-Za-z0-9_:])failoverwatch_[A-Za-z0-9_:]*")]
    private static partial Regex FailoverWatchIdentifier();
}
