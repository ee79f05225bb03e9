using FailoverWatch.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace FailoverWatch.Http;

internal static class EndpointRouteBuilderExtensions
{
    public static void MapFailoverWatchEndpoints(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<FailoverWatchMetrics>();
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapGet("/healthz", () => Results.Text("ok\n"));
    }
}
