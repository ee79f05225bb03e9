using System.Diagnostics;
using FailoverWatch.Processes;

namespace FailoverWatch.Tests.Processes;

public sealed class ExternalProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-process-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task a_command_that_leaves_a_child_holding_its_pipes_returns_when_it_exits()
    {
        var pidFile = Path.Combine(_directory, "child");
        var clock = Stopwatch.StartNew();
        var result = await ExternalProcess.RunShellAsync($"echo started; sleep 600 & echo $! > {pidFile}", TimeSpan.FromSeconds(30), CancellationToken.None);
        var elapsed = clock.Elapsed;
        using var child = Process.GetProcessById(int.Parse(await File.ReadAllTextAsync(pidFile), System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            Assert.True(result.Succeeded, result.Describe());
            Assert.Contains("started", result.StandardOutput, StringComparison.Ordinal);
            Assert.True(elapsed < TimeSpan.FromSeconds(10), $"returned after {elapsed}");

            // Left running: a hook may start a daemon on purpose; only a timeout kills the group.
            Assert.False(child.HasExited);
        }
        finally
        {
            child.Kill();
        }
    }

    [Fact]
    public async Task at_the_timeout_the_whole_group_is_killed_background_children_included()
    {
        var pidFile = Path.Combine(_directory, "child");
        var clock = Stopwatch.StartNew();
        var result = await ExternalProcess.RunShellAsync($"sleep 600 & echo $! > {pidFile}; sleep 600", TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.True(result.TimedOut);
        Assert.Equal("timed out", result.Describe());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"returned after {clock.Elapsed}");
        var child = await File.ReadAllTextAsync(pidFile);
        var deadline = Stopwatch.StartNew();
        while (IsAlive(child.Trim()) && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        Assert.False(IsAlive(child.Trim()), "the background child outlived the timeout");
    }

    [Fact]
    public async Task exit_status_and_stderr_are_reported()
    {
        var result = await ExternalProcess.RunShellAsync("echo oops >&2; exit 3", TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("exit 3: oops", result.Describe());
    }

    /// <summary>Alive and not a zombie waiting for its parent.</summary>
    private static bool IsAlive(string pid) =>
        File.Exists($"/proc/{pid}/stat") && File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2] != "Z";
}
