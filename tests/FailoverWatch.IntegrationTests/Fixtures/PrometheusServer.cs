using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FailoverWatch.LocalServers;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// A real Prometheus (Debian's package, /usr/bin/prometheus) on a free loopback port, with its TSDB in a
/// temporary folder, scraping one target every second and loading the given rule files. Killed and removed after the test.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string Binary = "/usr/bin/prometheus";
    public const string JobName = "failoverwatch";

    private readonly TempDirectory _directory;
    private readonly Process _process;
    private readonly StringBuilder _output;
    private readonly HttpClient _http;

    private PrometheusServer(TempDirectory directory, Process process, StringBuilder output, Uri baseAddress)
    {
        _directory = directory;
        _process = process;
        _output = output;
        BaseAddress = baseAddress;
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public Uri BaseAddress { get; }

    /// <summary>What Prometheus printed so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<PrometheusServer> StartAsync(string scrapeTarget, params string[] ruleFiles)
    {
        var directory = new TempDirectory();
        var port = OsUser.FreeLoopbackPort();
        var config = new StringBuilder()
            .AppendLine("global:")
            .AppendLine("  scrape_interval: 1s")
            .AppendLine("  scrape_timeout: 1s")
            .AppendLine("  evaluation_interval: 1s")
            .AppendLine("rule_files:");
        foreach (var file in ruleFiles)
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"  - '{file}'");
        }

        config
            .AppendLine("scrape_configs:")
            .AppendLine(CultureInfo.InvariantCulture, $"  - job_name: {JobName}")
            .AppendLine("    static_configs:")
            .AppendLine(CultureInfo.InvariantCulture, $"      - targets: ['{scrapeTarget}']");
        var configPath = directory.File("prometheus.yml");
        await File.WriteAllTextAsync(configPath, config.ToString());

        var startInfo = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[
            $"--config.file={configPath}",
            $"--storage.tsdb.path={directory.File("data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ])
        {
            startInfo.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        var server = new PrometheusServer(directory, process, output, new Uri($"http://127.0.0.1:{port}/"));
        try
        {
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await Wait.UntilAsync(
                async () =>
                {
                    if (process.HasExited)
                    {
                        throw new InvalidOperationException($"prometheus exited with {process.ExitCode}: {server.Output}");
                    }

                    using var response = await server._http.GetAsync(new Uri("-/ready", UriKind.Relative));
                    return response.IsSuccessStatusCode;
                },
                TimeSpan.FromSeconds(30),
                "prometheus ready");
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>An instant query; returns the <c>data</c> of a successful answer, throws with Prometheus's error otherwise.</summary>
    public Task<JsonElement> QueryAsync(string promql) =>
        GetDataAsync("api/v1/query?query=" + Uri.EscapeDataString(promql));

    /// <summary>The <c>data</c> of a successful answer of any GET API (rules, alerts, label values).</summary>
    public async Task<JsonElement> GetDataAsync(string relativeUri)
    {
        using var response = await _http.GetAsync(new Uri(relativeUri, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"{relativeUri}: {body}");
        }

        return root.GetProperty("data").Clone();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(exited.Token);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started: nothing to stop.
        }
        finally
        {
            _process.Dispose();
            _directory.Dispose();
        }
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is not null)
        {
            lock (builder)
            {
                builder.AppendLine(line);
            }
        }
    }
}
