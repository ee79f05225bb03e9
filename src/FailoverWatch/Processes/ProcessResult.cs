namespace FailoverWatch.Processes;

internal sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError, bool TimedOut)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>One line for logs and errors: the exit and the last of stderr.</summary>
    public string Describe() =>
        TimedOut ? "timed out" : $"exit {ExitCode}{(StandardError.Length > 0 ? ": " + StandardError.Trim().Split('\n')[^1] : "")}";
}
