using System.Diagnostics;
using FailoverWatch.Configuration;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace FailoverWatch.Tests.Telemetry;

public sealed class OpenTelemetryRegistrationTests
{
    // Nothing listens there: the OTLP exporter's sends fail quietly, the in-memory exporter beside it is what we read.
    private const string UnusedEndpoint = "http://127.0.0.1:9";

    [Fact]
    public void nothing_is_registered_without_an_otlp_endpoint()
    {
        var services = new ServiceCollection();
        var registered = services.AddFailoverWatchOpenTelemetry(Options(otlpEndpoint: null));

        Assert.False(registered);
        using var provider = services.BuildServiceProvider();
        Assert.Null(provider.GetService<TracerProvider>());
        Assert.Null(provider.GetService<MeterProvider>());
    }

    [Fact]
    public async Task spans_from_the_failoverwatch_source_are_exported_when_an_otlp_endpoint_is_set()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var spans = new List<Activity>();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        Assert.True(builder.Services.AddFailoverWatchOpenTelemetry(Options(UnusedEndpoint)));
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans));
        using var host = builder.Build();
        await host.StartAsync(timeout.Token);

        // A name of this test's own: other tests in the process may make FailoverWatch spans at the same time.
        var name = "otel-test-" + Guid.NewGuid().ToString("N");
        using (var parent = FailoverWatchActivity.Source.StartActivity(name))
        {
            Assert.NotNull(parent);
            using var child = FailoverWatchActivity.Source.StartActivity(name + "-child");
        }

        // In-memory export is synchronous on span end; the flush only drains the OTLP batch (which cannot be sent).
        host.Services.GetRequiredService<TracerProvider>().ForceFlush(5000);
        Activity[] mine;
        lock (spans)
        {
            mine = [.. spans.Where(s => s.DisplayName.StartsWith(name, StringComparison.Ordinal))];
        }

        var exportedParent = Assert.Single(mine, s => s.DisplayName == name);
        var exportedChild = Assert.Single(mine, s => s.DisplayName == name + "-child");
        Assert.Equal(exportedParent.SpanId, exportedChild.ParentSpanId);
        Assert.Equal(FailoverWatchActivity.SourceName, exportedParent.Source.Name);
        await host.StopAsync(timeout.Token);
    }

    [Fact]
    public async Task the_same_instruments_are_exported_over_the_meter_when_an_otlp_endpoint_is_set()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var exported = new List<Metric>();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<FailoverWatchMetrics>();
        Assert.True(builder.Services.AddFailoverWatchOpenTelemetry(Options(UnusedEndpoint)));
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInMemoryExporter(exported));
        using var host = builder.Build();
        await host.StartAsync(timeout.Token);

        var metrics = host.Services.GetRequiredService<FailoverWatchMetrics>();
        metrics.NodeUp.Set(1, "c1", "pg1");
        metrics.Failovers.Inc("c1", "promoted");
        metrics.ProbeDuration.Observe(0.004, "c1", "pg1");

        // The flush reports false because the OTLP reader beside ours cannot reach its endpoint; ours still collected.
        host.Services.GetRequiredService<MeterProvider>().ForceFlush(5000);
        var names = exported.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("failoverwatch_node_up", names);
        Assert.Contains("failoverwatch_failovers_total", names);
        Assert.Contains("failoverwatch_probe_duration_seconds", names);
        Assert.All(exported, m => Assert.Equal(FailoverWatchMetrics.MeterName, m.MeterName));

        // The contract's labels travel as attributes.
        var nodeUpPoints = new List<Dictionary<string, object?>>();
        foreach (var metric in exported.Where(m => m.Name == "failoverwatch_node_up"))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                var tags = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var tag in point.Tags)
                {
                    tags[tag.Key] = tag.Value;
                }

                nodeUpPoints.Add(tags);
            }
        }

        Assert.Contains(nodeUpPoints, t => Equals(t.GetValueOrDefault("cluster"), "c1") && Equals(t.GetValueOrDefault("node"), "pg1"));
        await host.StopAsync(timeout.Token);
    }

    private static FailoverWatchOptions Options(string? otlpEndpoint) => new()
    {
        Cluster = new ClusterOptions { Name = "c1" },
        Telemetry = new TelemetryOptions { OtlpEndpoint = otlpEndpoint },
    };
}
