using System.Diagnostics;
using System.Text;
using FailoverWatch.Storage;

namespace FailoverWatch.Processes;

/// <summary>
/// Runs a program to completion within a timeout. It runs in a session (and process group) of its own, so at the
/// timeout the whole group is killed, including whatever it started in the background; and the run ends when the
/// program exits, not when its pipes close: a child left running (<c>sleep 600 &amp;</c>, <c>ssh -f</c>,
/// <c>pg_ctl start</c> without <c>-l</c>) may hold them open for ever.
/// </summary>
internal static class ExternalProcess
{
    /// <summary>How long output may trail the program's exit (a child's last lines) before the run ends without it.</summary>
    private static readonly TimeSpan OutputGrace = TimeSpan.FromMilliseconds(500);

    private const int SigKill = 9;

    /// <summary>
    /// How long a killed group may take to exit. One in uninterruptible sleep (a hung disk or NFS mount) never does;
    /// the run ends without it rather than hold a failover decision for ever.
    /// </summary>
    internal static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(10);

    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        // setsid(1) execs the program as a session and group leader with the same pid (a child of .NET never leads a
        // group, so setsid does not fork): the group to kill is -pid.
        var startInfo = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        startInfo.ArgumentList.Add(fileName);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stdout = new OutputCollector();
        var stderr = new OutputCollector();
        process.Exited += (_, _) => exited.TrySetResult(process.ExitCode);
        process.OutputDataReceived += (_, e) => stdout.Add(e.Data);
        process.ErrorDataReceived += (_, e) => stderr.Add(e.Data);
        process.Start();
        var outputClosed = Task.WhenAll(stdout.Closed, stderr.Closed);

        // Disposed once it has exited and its pipes have closed, which a child left running may delay past this run.
        _ = Task.WhenAll(outputClosed, exited.Task).ContinueWith(_ => process.Dispose(), TaskScheduler.Default);
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var timedOut = false;
        var exitCode = -1;
        try
        {
            exitCode = await exited.Task.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            KillGroup(process);
            if (!await ExitsWithinAsync(exited.Task, KillGrace, TimeProvider.System))
            {
                stderr.Add($"still running {KillGrace.TotalSeconds:0}s after SIGKILL (uninterruptible sleep?); left behind");
            }

            cancellationToken.ThrowIfCancellationRequested();
            timedOut = true;
        }

        await Task.WhenAny(outputClosed, Task.Delay(OutputGrace, CancellationToken.None));
        return new ProcessResult(exitCode, stdout.Text, stderr.Text, timedOut);
    }

    /// <summary>Whether <paramref name="exited"/> completes within <paramref name="bound"/>; never waits longer.</summary>
    internal static async Task<bool> ExitsWithinAsync(Task exited, TimeSpan bound, TimeProvider time)
    {
        try
        {
            await exited.WaitAsync(bound, time);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Runs a command line through <c>/bin/sh -c</c>, as hooks and fence commands are written.</summary>
    public static Task<ProcessResult> RunShellAsync(
        string commandLine,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? environment = null) =>
        RunAsync("/bin/sh", ["-c", commandLine], timeout, cancellationToken, environment);

    private static void KillGroup(Process process)
    {
        if (LibC.Kill(-process.Id, SigKill) != 0)
        {
            // No such group (the program had not become its leader yet): the program and its descendants, as .NET sees them.
            process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Lines of one output stream, and when it closed.</summary>
    private sealed class OutputCollector
    {
        private readonly StringBuilder _text = new();
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Closed => _closed.Task;

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        public void Add(string? line)
        {
            if (line is null)
            {
                _closed.TrySetResult();
                return;
            }

            lock (_text)
            {
                _text.AppendLine(line);
            }
        }
    }
}
