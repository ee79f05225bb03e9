using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;
using FailoverWatch.Processes;

namespace FailoverWatch.IntegrationTests;

/// <summary>The README's first command, run as a new user runs it: build, watch, fail over, the old primary back as a standby, Ctrl-C, nothing left behind.</summary>
public sealed partial class DemoTests
{
    [Fact]
    public async Task demo_fails_over_and_ctrl_c_removes_everything()
    {
        using var demo = MonitorProcess.StartCliAsFromTerminal("demo", "--failover-after", "5s");
        var output = new StringBuilder();
        string Output()
        {
            lock (output)
            {
                return output.ToString();
            }
        }

        void Append(string? line)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }

        demo.OutputDataReceived += (_, e) => Append(e.Data);
        demo.ErrorDataReceived += (_, e) => Append(e.Data);
        demo.BeginOutputReadLine();
        demo.BeginErrorReadLine();
        string? folder = null;
        try
        {
            await Wait.UntilAsync(() => FolderLine().Match(Output()) is { Success: true } m && (folder = m.Groups[1].Value) is not null, TimeSpan.FromSeconds(120), "the demo's servers built");
            await Wait.UntilAsync(() => Output().Contains("Promoted pg2", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "the demo's failover");

            // Logged before pg2 is recorded in the state file that status reads.
            await Wait.UntilAsync(
                async () => await MonitorProcess.RunCliAsync("status", "--config", Path.Combine(folder!, "failoverwatch.yaml")) is (0, var shown) && shown.Contains("primary pg2", StringComparison.Ordinal),
                TimeSpan.FromSeconds(60),
                "status shows pg2 as the primary");

            // The old primary comes back by itself: the demo's host runs pg1's rejoin_command once the fence has run.
            await Wait.UntilAsync(() => Output().Contains("pg1 rejoined as a streaming standby of pg2", StringComparison.Ordinal), TimeSpan.FromSeconds(120), "pg1 rejoined as a standby");
            // One probe each, bounded by probe_timeout: asked again while a loaded machine answers late.
            await Wait.UntilAsync(
                async () => await MonitorProcess.RunCliAsync("status", "--config", Path.Combine(folder!, "failoverwatch.yaml")) is (0, var shown) && StandbyPg1().IsMatch(shown),
                TimeSpan.FromSeconds(60),
                "status shows pg1 as a streaming standby");

            // Ctrl-C, as a person at the terminal stops it.
            await ExternalProcess.RunAsync("kill", ["-INT", demo.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10), CancellationToken.None);
            var stopping = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                await Wait.UntilAsync(() => demo.HasExited, TimeSpan.FromSeconds(60), "the demo's exit after Ctrl-C");
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}\n{Output()}", e);
            }

            Console.WriteLine($"demo stopped {stopping.Elapsed.TotalSeconds:F1}s after Ctrl-C");
            Assert.True(demo.ExitCode == 0, $"exit {demo.ExitCode}\n{Output()}");
            Assert.False(Directory.Exists(folder), $"{folder} left behind");
            Assert.DoesNotContain("fence for pg1 failed", Output(), StringComparison.Ordinal);
        }
        finally
        {
            if (!demo.HasExited)
            {
                demo.Kill(entireProcessTree: true);
            }

            await RemoveLeftoversAsync(folder);
        }
    }

    /// <summary>When the demo failed to clean up, its servers (daemons, not its children) must still not outlive the test.</summary>
    private static async Task RemoveLeftoversAsync(string? folder)
    {
        if (folder is null || !Directory.Exists(folder))
        {
            return;
        }

        foreach (var data in Directory.EnumerateDirectories(folder, "data", SearchOption.AllDirectories))
        {
            var (program, arguments) = OsUser.AsServerAccount(PostgresBinaries.Find().Tool("pg_ctl"), ["-D", data, "-m", "immediate", "-W", "stop"]);
            await ExternalProcess.RunAsync(program, arguments, TimeSpan.FromSeconds(30), CancellationToken.None);
        }

        Directory.Delete(folder, recursive: true);
    }

    [GeneratedRegex(@"pg1\s+standby\s+yes\s.*\syes\s")]
    private static partial Regex StandbyPg1();

    [GeneratedRegex(@"\(folder (/\S+)\)")]
    private static partial Regex FolderLine();
}
