using System.Net;
using FailoverWatch.Backup;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Drill;
using FailoverWatch.Http;
using FailoverWatch.Logging;
using FailoverWatch.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FailoverWatch.Hosting;

/// <summary>Wires the long-running host: every service, the HTTP endpoint, logging and telemetry.</summary>
internal static class FailoverWatchHost
{
    public static WebApplication Build(FailoverWatchOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Host.UseSystemd();
        builder.Logging.AddFailoverWatchConsole();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPEndPoint.Parse(options.Http.Listen), listen => HttpsEndpoint.Configure(listen, options.Http.Tls)));
        // The control endpoints' refusals (Results.Problem) are written with these; no reflection in the native binary.
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, StatusJsonContext.Default));

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<FailoverWatchMetrics>();
        builder.Services.AddSingleton<BackupStatusBoard>();
        builder.Services.AddCoordination(options);
        if (options.Coordination is not null)
        {
            // Control requests a follower receives go on to the leader.
            builder.Services.AddSingleton<LeaderForwarder>();
        }

        builder.Services.AddMonitoring();
        builder.Services.AddBackups(options);
        builder.Services.AddDrill(options);
        builder.Services.AddFailoverWatchOpenTelemetry(options);

        var app = builder.Build();
        CoordinationServiceCollectionExtensions.PublishSoleMonitor(app.Services.GetRequiredService<FailoverWatchMetrics>(), options);
        app.MapFailoverWatchEndpoints();
        return app;
    }
}
