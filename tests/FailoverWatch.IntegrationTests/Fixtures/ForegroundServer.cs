using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// A server program run in the foreground (HAProxy, PgBouncer): its output kept for failure messages, ready once
/// its port accepts a connection, killed with its children on dispose whatever happened.
/// </summary>
public sealed class ForegroundServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ForegroundServer(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

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

    public static async Task<ForegroundServer> StartAsync(string program, IEnumerable<string> arguments, int port)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var server = new ForegroundServer(Process.Start(start)!);
        try
        {
            await Wait.UntilAsync(
                async () =>
                {
                    if (server._process.HasExited)
                    {
                        throw new InvalidOperationException($"{program} exited {server._process.ExitCode}:\n{server.Output}");
                    }

                    using var client = new TcpClient();
                    await client.ConnectAsync("127.0.0.1", port);
                    return true;
                },
                TimeSpan.FromSeconds(30),
                $"{program} listening on {port}");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
