using System.Globalization;
using FailoverWatch.LocalServers;
using FailoverWatch.Processes;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// A standby's startup process, the one that ends recovery: stopped (SIGSTOP), it takes a promotion request but cannot
/// act on it, while the server goes on answering queries. A request sent meanwhile takes effect once it is resumed.
/// </summary>
internal sealed class StartupProcess
{
    private readonly string _pid;

    private StartupProcess(string pid) => _pid = pid;

    public static async Task<StartupProcess> OfAsync(LocalPostgresServer standby)
    {
        var pid = (await ExternalProcess.RunAsync("pgrep", ["-P", standby.PostmasterPid!.Value.ToString(CultureInfo.InvariantCulture), "-f", "postgres: startup"], TimeSpan.FromSeconds(10), CancellationToken.None)).StandardOutput.Trim();
        Assert.Matches("^[0-9]+$", pid);
        return new StartupProcess(pid);
    }

    public Task StopAsync() => ExternalProcess.RunAsync("kill", ["-STOP", _pid], TimeSpan.FromSeconds(10), CancellationToken.None);

    /// <summary>Resumes it; harmless once it is gone (a test resumes in its finally, whatever happened).</summary>
    public Task ResumeAsync() => ExternalProcess.RunAsync("kill", ["-CONT", _pid], TimeSpan.FromSeconds(10), CancellationToken.None);
}
