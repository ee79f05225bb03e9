using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using FailoverWatch.Configuration;
using FailoverWatch.Http;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// The real <c>failoverwatch run</c> executable in a child process, as an operator runs it: its output
/// captured, its HTTP endpoint polled. Killed on dispose whatever happened.
/// </summary>
public sealed partial class MonitorProcess : IAsyncDisposable
{
    private static readonly HttpClient Plain = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly ChildProcess _process;
    private readonly HttpClient _http;

    private MonitorProcess(ChildProcess process, int httpPort, string? caFile)
    {
        _process = process;
        BaseAddress = new Uri($"{(caFile is null ? "http" : "https")}://127.0.0.1:{httpPort}/");
        _http = caFile is null ? Plain : MonitorHttpClient.Create(new HttpOptions { Tls = new HttpTlsOptions { CaFile = caFile } }, TimeSpan.FromSeconds(5), TimeProvider.System);
    }

    public Uri BaseAddress { get; }

    public string Output => _process.Output;

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// The published executable when FAILOVERWATCH_BINARY names one (CI tests what it ships), else the
    /// build's <c>failoverwatch.dll</c> under <c>dotnet</c>.
    /// </summary>
    public static string? PublishedBinary => Environment.GetEnvironmentVariable("FAILOVERWATCH_BINARY") is { Length: > 0 } binary ? binary : null;

    /// <summary>Starts <c>failoverwatch ARGS</c> and returns at once.</summary>
    public static Process StartCli(params string[] arguments) => Start(Command(arguments));

    /// <summary>
    /// <c>failoverwatch ARGS</c> with Ctrl-C's default disposition, as a terminal starts it: a test run started in the
    /// background (<c>&amp;</c>, no job control) hands down an ignored SIGINT, and .NET leaves an inherited SIG_IGN alone.
    /// </summary>
    public static Process StartCliAsFromTerminal(params string[] arguments)
    {
        var (program, all) = Command(arguments);
        return Start(("env", ["--default-signal=INT", program, .. all]));
    }

    private static Process Start((string Program, string[] Arguments) command)
    {
        var (program, all) = command;
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in all)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    /// <summary>The program and arguments that run <c>failoverwatch ARGS</c>.</summary>
    private static (string Program, string[] Arguments) Command(string[] arguments) =>
        PublishedBinary is { } binary ? (binary, arguments) : ("dotnet", [Path.Combine(AppContext.BaseDirectory, "failoverwatch.dll"), .. arguments]);

    /// <summary>The <c>/bin/sh</c> command line that runs <c>failoverwatch ARGS</c>, each argument quoted (a <c>$VAR</c> in one stays as written).</summary>
    public static string ShellCommandLine(params string[] arguments)
    {
        var (program, all) = Command(arguments);
        return string.Join(' ', new[] { program }.Concat(all).Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
    }

    /// <summary>Runs <c>failoverwatch ARGS</c> to the end: exit status and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunCliAsync(params string[] arguments)
    {
        using var process = StartCli(arguments);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>
    /// Starts <c>failoverwatch run</c> on a configuration listening on <paramref name="httpPort"/>; returns once /healthz
    /// answers. With <paramref name="caFile"/> the endpoint is https, verified against that CA.
    /// </summary>
    public static async Task<MonitorProcess> StartAsync(string configPath, int httpPort, string? caFile = null)
    {
        var (program, arguments) = Command(["run", "--config", configPath]);
        var monitor = new MonitorProcess(ChildProcess.Start(program, arguments), httpPort, caFile);
        try
        {
            await Wait.UntilAsync(
                async () => monitor.HasExited ? throw new InvalidOperationException("monitor exited:\n" + monitor.Output) : (await monitor._http.GetAsync(new Uri(monitor.BaseAddress, "healthz"))).IsSuccessStatusCode,
                TimeSpan.FromSeconds(60),
                "monitor /healthz");
            return monitor;
        }
        catch
        {
            await monitor.DisposeAsync();
            throw;
        }
    }

    public Task<HttpResponseMessage> HealthAsync() => _http.GetAsync(new Uri(BaseAddress, "healthz"));

    /// <summary>A GET of the host's HTTP endpoint, such as <c>primary/pg1</c>, HAProxy's health check.</summary>
    public Task<HttpResponseMessage> GetAsync(string path) => _http.GetAsync(new Uri(BaseAddress, path));

    public int Id => _process.Id;

    public async Task<JsonElement> StatusAsync() =>
        await _http.GetFromJsonAsync<JsonElement>(new Uri(BaseAddress, "status"));

    public async Task<List<JsonElement>> IncidentsAsync() =>
        [.. (await _http.GetFromJsonAsync<JsonElement>(new Uri(BaseAddress, "incidents"))).EnumerateArray()];

    public async Task<string> MetricsAsync() => await _http.GetStringAsync(new Uri(BaseAddress, "metrics"));

    /// <summary>Polls until <paramref name="series"/> (name and labels as scraped) is at least <paramref name="atLeast"/>.</summary>
    public Task WaitForMetricAtLeastAsync(string series, double atLeast, TimeSpan within, string what) =>
        Wait.UntilAsync(async () => await MetricAsync(series) >= atLeast, within, $"{what} ({series} >= {atLeast})");

    /// <summary>
    /// Polls until the monitor has printed <paramref name="text"/>: its console logger writes on a thread of its own,
    /// so a line can reach the output a moment after the metric or state that the same decision changed.
    /// </summary>
    public async Task WaitForOutputAsync(string text)
    {
        try
        {
            await Wait.UntilAsync(() => Output.Contains(text, StringComparison.Ordinal), TimeSpan.FromSeconds(10), $"the monitor to print \"{text}\"");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; it printed:\n{Output}", e);
        }
    }

    /// <summary>The value of one series in a scrape, e.g. <c>failoverwatch_node_up{cluster="test",node="pg1"}</c>; null when absent.</summary>
    public async Task<double?> MetricAsync(string series)
    {
        foreach (var line in (await MetricsAsync()).Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    public Task<HttpResponseMessage> PostAsync(string path, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseAddress, path));
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }

        return _http.SendAsync(request);
    }

    /// <summary>SIGSTOP / SIGCONT of the monitor itself: a hung monitor that later resumes.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>kill -9 of the monitor itself.</summary>
    public Task KillAsync() => _process.KillAsync();

    public ValueTask DisposeAsync()
    {
        if (_http != Plain)
        {
            _http.Dispose();
        }

        return _process.DisposeAsync();
    }
}
