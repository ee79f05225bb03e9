using FailoverWatch.Backup;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Failover;
using FailoverWatch.Monitoring;
using FailoverWatch.Readiness;
using FailoverWatch.Routing;
using FailoverWatch.State;
using FailoverWatch.Telemetry;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace FailoverWatch.Http;

internal static class EndpointRouteBuilderExtensions
{
    public static void MapFailoverWatchEndpoints(this WebApplication app)
    {
        var services = app.Services;
        var options = services.GetRequiredService<FailoverWatchOptions>();
        var metrics = services.GetRequiredService<FailoverWatchMetrics>();
        var latest = services.GetRequiredService<LatestClusterView>();
        var coordinator = services.GetRequiredService<FailoverCoordinator>();
        var heartbeat = services.GetRequiredService<MonitorHeartbeat>();
        var backups = services.GetRequiredService<BackupStatusBoard>();
        var token = new AdminToken(options);
        var time = services.GetRequiredService<TimeProvider>();

        app.MapMetrics("/metrics", metrics.Registry);

        // Alive while the loop finishes rounds; a stuck loop is unhealthy after a few missed intervals.
        var stallLimit = options.Monitor.ProbeInterval * 3 + options.Monitor.ProbeTimeout * 2 + options.Hooks.Timeout;
        app.MapGet("/healthz", () => heartbeat.LastBeat is { } beat && time.GetUtcNow() - beat < stallLimit
            ? coordinator.DecisionClock.Overdue() is { } overdue
                ? Results.Text(overdue + "\n", statusCode: StatusCodes.Status503ServiceUnavailable)
                : Results.Text("ok\n")
            : Results.Text("monitor loop is not running\n", statusCode: StatusCodes.Status503ServiceUnavailable));

        var readiness = services.GetRequiredService<ReadinessMonitor>();
        var coordination = services.GetService<ClusterCoordination>();
        var forwarder = services.GetService<LeaderForwarder>();
        app.MapGet("/status", () => Results.Json(
            StatusDocument.From(options.Cluster.Name, latest.Current, coordinator.State, options.Monitor.AutoFailover, backups.LastSuccess) with { FailoverReadiness = readiness.Current, Coordination = coordination?.StatusFields(), Replication = ReplicationStatusDocument.From(options.Replication, coordinator.State) },
            StatusJsonContext.Default.StatusDocument));

        // HAProxy's health checks: from the last round, no probe of their own.
        var nodes = options.Cluster.Nodes.Select(n => n.Name).ToList();
        app.MapGet("/primary/{node}", (string node) => Answer(RoutingCheck.Primary(node, nodes, latest.Current, coordinator.State)));
        app.MapGet("/replica/{node}", (string node, string? max_lag) => Answer(RoutingCheck.Replica(node, max_lag, nodes, latest.Current)));

        // With coordination, etcd's (their own keys), so every monitor shows the leader's.
        var etcdState = services.GetService<EtcdStateStore>();
        app.MapGet("/incidents", async (CancellationToken cancellationToken) =>
        {
            try
            {
                return Results.Json(etcdState is null ? coordinator.State.Incidents : await etcdState.IncidentsAsync(cancellationToken), FailoverStateJsonContext.Default.IReadOnlyListIncident);
            }
            catch (RpcException e)
            {
                return Results.Text($"etcd did not answer: {e.Status.Detail}\n", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });

        app.MapPost("/pause", async (HttpRequest request, CancellationToken cancellationToken) =>
        {
            if (token.Check(request) is { } denied)
            {
                return denied;
            }

            if (forwarder is not null && await forwarder.ForwardAsync(request, cancellationToken) is { } forwarded)
            {
                return forwarded;
            }

            await coordinator.SetPausedAsync(true, "POST /pause", cancellationToken);
            return Results.Json(new PausedDocument(true), StatusJsonContext.Default.PausedDocument);
        });

        app.MapPost("/resume", async (HttpRequest request, CancellationToken cancellationToken) =>
        {
            if (token.Check(request) is { } denied)
            {
                return denied;
            }

            if (forwarder is not null && await forwarder.ForwardAsync(request, cancellationToken) is { } forwarded)
            {
                return forwarded;
            }

            await coordinator.SetPausedAsync(false, "POST /resume", cancellationToken);
            return Results.Json(new PausedDocument(false), StatusJsonContext.Default.PausedDocument);
        });

        var switchover = services.GetRequiredService<SwitchoverService>();
        app.MapPost("/switchover", async (HttpRequest request, string to) =>
        {
            if (token.Check(request) is { } denied)
            {
                return denied;
            }

            if (forwarder is not null && await forwarder.ForwardAsync(request, app.Lifetime.ApplicationStopping, Timeout.InfiniteTimeSpan) is { } forwarded)
            {
                return forwarded;
            }

            // Not the request's token: once started, a switchover ends (done or refused) even if the client goes away.
            var result = await switchover.SwitchAsync(to, app.Lifetime.ApplicationStopping);
            return Results.Json(result, StatusJsonContext.Default.SwitchoverResult, statusCode: result.Succeeded ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
        });

        var drills = services.GetRequiredService<Drill.DrillService>();
        app.MapPost("/drill", async (HttpRequest request) =>
        {
            if (token.Check(request) is { } denied)
            {
                return denied;
            }

            if (forwarder is not null && await forwarder.ForwardAsync(request, app.Lifetime.ApplicationStopping, Timeout.InfiniteTimeSpan) is { } forwarded)
            {
                return forwarded;
            }

            // Not the request's token: a drill that started puts the roles back even if the client goes away.
            return await drills.RunAsync("POST /drill", app.Lifetime.ApplicationStopping) is { } report
                ? Results.Json(report, Drill.DrillJsonContext.Default.DrillReport, statusCode: report.Passed ? StatusCodes.Status200OK : StatusCodes.Status409Conflict)
                : Results.Problem("another drill is running; see failoverwatch incidents", statusCode: StatusCodes.Status409Conflict);
        });
    }

    private static IResult Answer(RoutingAnswer answer) => Results.Text(answer.Text + "\n", statusCode: answer.StatusCode);
}
