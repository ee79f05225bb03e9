using FailoverWatch.Configuration;
using FailoverWatch.Hosting;
using FailoverWatch.LocalServers;
using FailoverWatch.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>The real FailoverWatch host, in process, on a free loopback port; stopped after the test.</summary>
public sealed class RunningHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _http;

    private RunningHost(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public Uri BaseAddress { get; }

    /// <summary><c>host:port</c>, as a Prometheus scrape target.</summary>
    public string Target => $"{BaseAddress.Host}:{BaseAddress.Port}";

    internal FailoverWatchMetrics Metrics => _app.Services.GetRequiredService<FailoverWatchMetrics>();

    internal T GetRequiredService<T>()
        where T : notnull => _app.Services.GetRequiredService<T>();

    /// <summary>Options for a host watching <paramref name="pair"/>, with its state in <paramref name="directory"/>.</summary>
    internal static FailoverWatchOptions OptionsFor(PostgresPair pair, string directory) => new()
    {
        Cluster = new ClusterOptions
        {
            Name = "test",
            Nodes =
            [
                new NodeOptions { Name = pair.Primary.Name, Host = "127.0.0.1", Port = pair.Primary.Port, User = LocalPostgresServer.Superuser },
                new NodeOptions { Name = pair.Standby.Name, Host = "127.0.0.1", Port = pair.Standby.Port, User = LocalPostgresServer.Superuser },
            ],
        },
        Monitor = new MonitorOptions
        {
            ProbeInterval = TimeSpan.FromMilliseconds(250),
            ProbeTimeout = TimeSpan.FromSeconds(2),
            StateFile = System.IO.Path.Combine(directory, "state.json"),
        },
    };

    internal static async Task<RunningHost> StartAsync(FailoverWatchOptions options, string directory)
    {
        options.Http.Listen = $"127.0.0.1:{OsUser.FreeLoopbackPort()}";
        var app = FailoverWatchHost.Build(options);
        try
        {
            using var startup = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.StartAsync(startup.Token);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new RunningHost(app, new Uri($"http://{options.Http.Listen}/"));
    }

    public async Task<string> ScrapeAsync()
    {
        using var response = await _http.GetAsync(new Uri("metrics", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        try
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _app.StopAsync(stop.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
