using System.Diagnostics;

namespace FailoverWatch.IntegrationTests.Fixtures;

public sealed partial class MonitorProcess
{
    /// <summary>
    /// Runs <c>failoverwatch ARGS</c> as root without the capabilities that let root read any file (<c>setpriv</c> drops
    /// CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding set), so a file another user keeps 0600 really cannot
    /// be read, as it cannot by the service user.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunCliWithoutFileOverrideAsync(params string[] arguments)
    {
        var (program, all) = Command(arguments);
        var start = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["--bounding-set", "-dac_override,-dac_read_search", "--", program, .. all])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
