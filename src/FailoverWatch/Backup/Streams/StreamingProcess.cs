using FailoverWatch.Storage;
using System.Diagnostics;
using System.Text;

namespace FailoverWatch.Backup.Streams;

/// <summary>
/// A child process whose stdout (or stdin) is a stream the caller pumps, for dumps too large to hold in memory.
/// Stderr is collected (bounded) for the error message. Disposing kills the whole tree if it still runs.
/// </summary>
internal sealed class StreamingProcess : IDisposable
{
    private const int StderrLimit = 64 * 1024;
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private StreamingProcess(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_stderr)
            {
                if (_stderr.Length < StderrLimit)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
    }

    public static StreamingProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment, bool writeStdin)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = !writeStdin,
            RedirectStandardError = true,
            RedirectStandardInput = writeStdin,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }

        var process = new Process { StartInfo = startInfo };
        var streaming = new StreamingProcess(process);
        process.Start();
        process.BeginErrorReadLine();
        return streaming;
    }

    public Stream Output => _process.StandardOutput.BaseStream;

    /// <summary>
    /// Grows the stdout pipe from 64 kB to <paramref name="bytes"/>: fewer, larger reads and context switches for a
    /// multi-gigabyte dump. Best effort; the default pipe still works.
    /// </summary>
    public void GrowOutputPipe(int bytes)
    {
        if (Output is System.IO.Pipes.PipeStream pipe)
        {
            _ = LibC.Fcntl((int)pipe.SafePipeHandle.DangerousGetHandle(), LibC.FSetPipeSize, bytes);
        }
    }

    public Stream Input => _process.StandardInput.BaseStream;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Waits for the exit; on cancel (or timeout through the token) kills the tree and rethrows.</summary>
    public async Task<int> WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw;
        }

        // The second wait drains the stderr reader after the process has gone.
        await _process.WaitForExitAsync(CancellationToken.None);
        return _process.ExitCode;
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
