using System.Diagnostics;
using FailoverWatch.Failover;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace FailoverWatch.IntegrationTests.Observability;

/// <summary>What an operator's tracing backend shows of a real failover.</summary>
public sealed class FailoverTraceTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task failover_produces_a_span_tree_of_promote_fence_and_hook_with_the_incident_phases_as_events()
    {
        var spans = new List<Activity>();
        // Integration tests run one at a time, so this process-wide listener sees only this test's host.
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(FailoverWatchActivity.SourceName)
            .AddInMemoryExporter(spans)
            .Build();

        using var directory = new TempDirectory();
        await using var pair = await PostgresPair.StartAsync();
        var options = RunningHost.OptionsFor(pair, directory.Path);
        options.Cluster.Nodes[0].FenceCommand = "echo fenced $FW_NODE";
        options.Hooks.OnFailover = "echo new primary $FW_NEW_PRIMARY";
        await using var host = await RunningHost.StartAsync(options, directory.Path);
        var coordinator = host.GetRequiredService<FailoverCoordinator>();
        await Wait.UntilAsync(() => coordinator.RecordedPrimary == "pg1", Deadline, "the monitor to record pg1 as primary");

        await pair.Primary.StopAsync(CancellationToken.None, mode: "immediate");

        // The failover span ends last, after its children: once it is exported the tree is whole.
        Activity? failover = null;
        await Wait.UntilAsync(
            () =>
            {
                lock (spans)
                {
                    failover = spans.LastOrDefault(s => s.DisplayName == "failover");
                }

                return failover is not null;
            },
            Deadline,
            "a failover span");

        Activity[] children;
        bool probeRounds;
        lock (spans)
        {
            // The exporter goes on adding probe rounds without the lock: enumerating the list itself could meet an Add.
            var exported = spans.ToArray();
            children = [.. exported.Where(s => s.ParentSpanId == failover!.SpanId)];
            probeRounds = exported.Any(s => s.DisplayName == "probe round");
        }

        Assert.True(probeRounds, "no probe round span");

        var childNames = children.Select(c => c.DisplayName).ToHashSet(StringComparer.Ordinal);
        Assert.True(
            childNames.SetEquals(["promote", "fence", "hook"]),
            "children of the failover span: " + string.Join(", ", childNames));
        Assert.All(children, c => Assert.Equal(failover!.TraceId, c.TraceId));
        Assert.All(children, c => Assert.NotEqual(ActivityStatusCode.Error, c.Status));
        Assert.Equal("pg1", failover!.GetTagItem("failoverwatch.old_primary"));
        Assert.Equal("pg2", failover.GetTagItem("failoverwatch.new_primary"));
        Assert.Equal("pg2", children.Single(c => c.DisplayName == "promote").GetTagItem("failoverwatch.node"));
        Assert.Equal("pg1", children.Single(c => c.DisplayName == "fence").GetTagItem("failoverwatch.node"));

        // The incident's phases, as events of the failover span with their times.
        Assert.Equal(
            ["checkpoint", "decided", "detected", "fence", "hook", "promote", "writable"],
            failover.Events.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.NotNull(failover.GetTagItem("failoverwatch.incident"));
        Assert.Equal("promoted", failover.GetTagItem("failoverwatch.result"));
    }
}
