using FailoverWatch.Configuration;
using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.IntegrationTests.Observability;

/// <summary>The host's own OTLP wiring, over the wire, to the endpoint in <c>telemetry.otlp_endpoint</c>.</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task host_sends_probe_round_spans_to_the_configured_otlp_endpoint()
    {
        await using var collector = await FakeOtlpCollector.StartAsync();
        using var directory = new TempDirectory();
        var options = new FailoverWatchOptions
        {
            Cluster = new ClusterOptions
            {
                Name = "otlp-test",
                // Nothing listens on these: every round still probes, and makes its span.
                Nodes =
                [
                    new NodeOptions { Name = "pg1", Host = "127.0.0.1", Port = 9 },
                    new NodeOptions { Name = "pg2", Host = "127.0.0.1", Port = 9 },
                ],
            },
            Monitor = new MonitorOptions
            {
                ProbeInterval = TimeSpan.FromMilliseconds(250),
                StateFile = directory.File("state.json"),
            },
            Telemetry = new TelemetryOptions { OtlpEndpoint = collector.Endpoint.ToString() },
        };
        await using var host = await RunningHost.StartAsync(options, directory.Path);

        // The batch exporter sends every 5 s by default.
        await Wait.UntilAsync(
            () => collector.TracesContain("probe round") && collector.TracesContain("otlp-test"),
            TimeSpan.FromSeconds(30),
            "a probe round span, with the cluster in its resource, at the OTLP endpoint");
    }
}
