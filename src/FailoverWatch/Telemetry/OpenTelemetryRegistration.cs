using FailoverWatch.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FailoverWatch.Telemetry;

/// <summary>
/// OTLP export of the same instruments <c>/metrics</c> serves, and of the trace spans, when
/// <c>telemetry.otlp_endpoint</c> is set.
/// </summary>
internal static class OpenTelemetryRegistration
{
    public const string ServiceName = "failoverwatch";

    /// <returns>Whether OpenTelemetry was registered.</returns>
    public static bool AddFailoverWatchOpenTelemetry(this IServiceCollection services, FailoverWatchOptions options)
    {
        // Without an endpoint nothing is registered at all: no MeterListener, no ActivityListener, so
        // StartActivity returns null and the instruments cost what they cost without OpenTelemetry.
        if (string.IsNullOrWhiteSpace(options.Telemetry.OtlpEndpoint))
        {
            return false;
        }

        // The validator has already checked it is an absolute URL. OTLP over gRPC (the exporter's default, port 4317).
        var endpoint = new Uri(options.Telemetry.OtlpEndpoint);
        var version = typeof(OpenTelemetryRegistration).Assembly.GetName().Version?.ToString();
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService(ServiceName, serviceVersion: version, serviceInstanceId: Environment.MachineName)
                .AddAttributes([new("failoverwatch.cluster", options.Cluster.Name)]))
            .WithMetrics(metrics => metrics
                .AddMeter(FailoverWatchMetrics.MeterName)
                .AddOtlpExporter(otlp => otlp.Endpoint = endpoint))
            .WithTracing(tracing => tracing
                .AddSource(FailoverWatchActivity.SourceName)
                .AddOtlpExporter(otlp => otlp.Endpoint = endpoint));
        return true;
    }
}
