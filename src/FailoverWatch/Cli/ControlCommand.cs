using System.CommandLine;
using System.Net.Http.Headers;
using FailoverWatch.Configuration;
using FailoverWatch.Http;

namespace FailoverWatch.Cli;

/// <summary>Commands that ask the running host to do something over its HTTP control endpoints, with the admin token.</summary>
internal static class ControlCommand
{
    public static Command Pause() => Create("pause", "Turn automatic failover off in the running host (maintenance)", _ => "pause");

    public static Command Resume() => Create("resume", "Turn automatic failover back on in the running host", _ => "resume");

    public static Command Switchover()
    {
        var to = new Option<string>("--to") { Description = "The standby to promote", Required = true };
        var command = Create("switchover", "Planned role swap: stop the primary, let the target catch up, promote it", p => $"switchover?to={Uri.EscapeDataString(p.GetRequiredValue(to))}");
        command.Options.Add(to);
        return command;
    }

    /// <param name="timeout">How long to wait for the host's answer; default 5 minutes.</param>
    internal static Command Create(string name, string description, Func<ParseResult, string> path, TimeSpan? timeout = null)
    {
        var config = ConfigFileOption.Create();
        var command = new Command(name, description) { config };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (ConfigFileOption.Load(parseResult, config) is not { } options)
            {
                return ConfigFileOption.InvalidConfigExitCode;
            }

            if (options.Http.AdminTokenFile is null)
            {
                await Console.Error.WriteLineAsync("http.admin_token_file: not set, so the host's control endpoints are off");
                return 1;
            }

            return await PostAsync(options, path(parseResult), timeout ?? TimeSpan.FromMinutes(5), cancellationToken);
        });
        return command;
    }

    private static async Task<int> PostAsync(FailoverWatchOptions options, string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = MonitorHttpClient.Create(options.Http, timeout, TimeProvider.System);
        var host = MonitorHttpClient.Local(options.Http);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(options.Http.AdminTokenFile!, cancellationToken)).Trim());
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            Console.WriteLine(body);
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"cannot reach the running host at {host}: {MonitorHttpClient.Why(e)}");
            return 1;
        }
    }
}
