using System.Collections.Concurrent;
using System.Net;
using System.Text;
using FailoverWatch.LocalServers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// The receiving end of OTLP over gRPC (no collector package here): HTTP/2 without TLS on a free loopback
/// port, keeping each export request's protobuf body and answering gRPC status 0.
/// </summary>
public sealed class FakeOtlpCollector : IAsyncDisposable
{
    private const string TracePath = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    private const string MetricsPath = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _requests = new();

    private FakeOtlpCollector(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public static async Task<FakeOtlpCollector> StartAsync()
    {
        var port = OsUser.FreeLoopbackPort();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        var collector = new FakeOtlpCollector(app, new Uri($"http://127.0.0.1:{port}"));
        app.MapPost(TracePath, collector.ReceiveAsync);
        app.MapPost(MetricsPath, collector.ReceiveAsync);
        using var startup = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(startup.Token);
        return collector;
    }

    /// <summary>Whether any trace export so far carried <paramref name="text"/> (protobuf keeps strings as UTF-8).</summary>
    public bool TracesContain(string text) => Contains(TracePath, text);

    public bool MetricsContain(string text) => Contains(MetricsPath, text);

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }

    private bool Contains(string path, string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return _requests.Any(r => r.Path == path && r.Body.AsSpan().IndexOf(needle) >= 0);
    }

    private async Task ReceiveAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        _requests.Enqueue((context.Request.Path.Value!, body.ToArray()));

        // A gRPC reply: one uncompressed, empty message (flag byte + 4-byte length), then status 0 in the trailers.
        context.Response.ContentType = "application/grpc";
        await context.Response.Body.WriteAsync(new byte[5], context.RequestAborted);
        context.Response.AppendTrailer("grpc-status", "0");
    }
}
