using FailoverWatch.Processes;
using FailoverWatch.Rejoin;

namespace FailoverWatch.Tests.Rejoin;

/// <summary>
/// The shell that runs pg_rewind under the "rewind in progress" marker, with a shell command standing in for
/// pg_rewind: it removes the marker only when the rewind succeeded, even once its caller has gone, and a marker tells a
/// rewind still running from one that stopped.
/// </summary>
public sealed class RewindRunTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-rewind-").FullName;

    private string Marker => Path.Combine(_directory, "data.rewind-in-progress");

    private string Log => Path.Combine(_directory, "data.rewind.log");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private List<string> Wrapped(string rewind) => RewindRun.ShellArguments(Marker, Log, DateTimeOffset.UnixEpoch, "/bin/sh", ["-c", rewind]);

    [Fact]
    public async Task a_rewind_that_succeeds_removes_the_marker_and_its_output_comes_through()
    {
        var result = await ExternalProcess.RunAsync("/bin/sh", Wrapped("echo 'rewinding from last common checkpoint' >&2"), Bound, CancellationToken.None);

        Assert.True(result.Succeeded, result.Describe());
        Assert.Contains("rewinding from last common checkpoint", result.StandardOutput, StringComparison.Ordinal);
        Assert.False(File.Exists(Marker));
    }

    [Fact]
    public async Task a_rewind_that_fails_keeps_the_marker_naming_a_process_that_is_gone()
    {
        var result = await ExternalProcess.RunAsync("/bin/sh", Wrapped("echo broke >&2; exit 3"), Bound, CancellationToken.None);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("broke", result.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"^pg_rewind started 1970-01-01T00:00:00\.0000000\+00:00 by pid \d+\n$", File.ReadAllText(Marker));
        Assert.Null(RewindRun.RunningPid(Marker));
    }

    [Fact]
    public async Task while_the_rewind_runs_the_marker_names_the_live_wrapper_and_a_finished_one_leaves_none()
    {
        var go = Path.Combine(_directory, "go");
        var run = ExternalProcess.RunAsync("/bin/sh", Wrapped($"while [ ! -e {go} ]; do sleep 0.05; done"), Bound, CancellationToken.None);
        var deadline = DateTime.UtcNow + Bound;
        int? pid;
        while ((pid = RewindRun.RunningPid(Marker)) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the marker never named the running wrapper");
            await Task.Delay(20);
        }

        Assert.Contains($"by pid {pid}", File.ReadAllText(Marker), StringComparison.Ordinal);
        await File.WriteAllTextAsync(go, "");
        Assert.True((await run).Succeeded);
        Assert.False(File.Exists(Marker));
        Assert.Null(RewindRun.RunningPid(Marker));
    }

    [Fact]
    public async Task a_rewind_that_outlives_its_caller_still_removes_the_marker_when_it_succeeds()
    {
        // The caller's end of the pipe closes at once (head exits), as when the host kills a rejoin: pg_rewind writes on.
        var wrapped = string.Join(' ', Wrapped("sleep 0.3; seq 1 100000 >&2").Select(Quote));
        var result = await ExternalProcess.RunShellAsync($"/bin/sh {wrapped} | head -c 0", Bound, CancellationToken.None);

        Assert.True(result.Succeeded, result.Describe());
        Assert.False(File.Exists(Marker));
        Assert.Contains("100000", File.ReadAllText(Log), StringComparison.Ordinal);
    }

    [Fact]
    public void a_marker_naming_a_pid_that_is_not_its_wrapper_counts_as_gone()
    {
        // This test's own pid runs, but its command line does not name the marker: a pid reused since, or an old marker.
        File.WriteAllText(Marker, $"pg_rewind started 2026-01-01T00:00:00Z by pid {Environment.ProcessId}\n");
        Assert.Null(RewindRun.RunningPid(Marker));
        File.WriteAllText(Marker, "garbled");
        Assert.Null(RewindRun.RunningPid(Marker));
        File.Delete(Marker);
        Assert.Null(RewindRun.RunningPid(Marker));
    }

    private static string Quote(string argument) => "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
