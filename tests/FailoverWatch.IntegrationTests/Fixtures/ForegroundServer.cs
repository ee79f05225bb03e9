using System.Net.Sockets;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>A server program run in the foreground (HAProxy, PgBouncer), ready once its port accepts a connection.</summary>
public static class ForegroundServer
{
    public static async Task<ChildProcess> StartAsync(string program, IEnumerable<string> arguments, int port)
    {
        var server = ChildProcess.Start(program, arguments);
        try
        {
            await Wait.UntilAsync(
                async () =>
                {
                    if (server.HasExited)
                    {
                        throw new InvalidOperationException($"{program} exited {server.ExitCode}:\n{server.Output}");
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
}
