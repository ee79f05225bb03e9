using System.CommandLine;
using FailoverWatch.Configuration;
using FailoverWatch.Demo;
using FailoverWatch.Hosting;
using Microsoft.Extensions.Hosting;

namespace FailoverWatch.Cli;

internal static class DemoCommand
{
    public static Command Create()
    {
        var failoverAfter = new Option<string?>("--failover-after") { Description = "Kill the demo primary (kill -9) after this long, e.g. 30s, to show a failover" };
        var command = new Command("demo", "Build a throwaway local primary + standby and watch them until Ctrl-C") { failoverAfter };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            TimeSpan? killAfter = null;
            if (parseResult.GetValue(failoverAfter) is { } text)
            {
                if (!Duration.TryParse(text, out var parsed))
                {
                    Console.Error.WriteLine($"--failover-after: '{text}' is not a duration (use 30s, 2m)");
                    return ConfigFileOption.InvalidConfigExitCode;
                }

                killAfter = parsed;
            }

            Console.WriteLine("Building a local primary and streaming standby ...");
            await using var demo = await DemoCluster.StartAsync(cancellationToken);
            var options = ConfigLoader.Load(demo.ConfigPath);
            Console.WriteLine($"""
                primary pg1 on 127.0.0.1:{demo.Primary.Port}, standby pg2 on 127.0.0.1:{demo.Standby.Port} (folder {demo.Directory})
                config:   {demo.ConfigPath}
                metrics:  http://127.0.0.1:{demo.HttpPort}/metrics
                status:   http://127.0.0.1:{demo.HttpPort}/status
                try:      failoverwatch status --config {demo.ConfigPath}
                Ctrl-C stops the demo and removes everything.
                """);
            await using var host = FailoverWatchHost.Build(options);
            await host.StartAsync(cancellationToken);
            if (killAfter is { } delay)
            {
                _ = KillPrimaryLaterAsync(demo, delay, cancellationToken);
            }

            await host.WaitForShutdownAsync(cancellationToken);
            Console.WriteLine($"Monitor stopped; removing both servers and {demo.Directory} ...");
            return 0;
        });
        return command;
    }

    private static async Task KillPrimaryLaterAsync(DemoCluster demo, TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
            Console.WriteLine($">>> demo: kill -9 of the primary pg1 (postmaster {demo.Primary.PostmasterPid}) now; watch the promotion of pg2 below, "
                + "then the host bringing pg1 back as a standby of pg2 (its rejoin_command runs failoverwatch rejoin: \"pg1 rejoined as a streaming standby of pg2\")");
            await demo.Primary.SignalAsync("KILL", cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Stopped before the kill was due.
        }
    }
}
