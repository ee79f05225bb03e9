using FailoverWatch.Processes;

namespace FailoverWatch.Readiness;

/// <summary>
/// Every configured fence command and hook names a program the shell that runs it can find and execute. The
/// primary's fence and the on_failover hook run in every failover, so they block every standby.
/// </summary>
internal sealed class CommandCheck : IReadinessCheck
{
    public async Task<IReadOnlyList<ReadinessProblem>> CheckAsync(ReadinessContext context, CancellationToken cancellationToken)
    {
        var options = context.Options;
        var commands = options.Cluster.Nodes
            .Where(n => n.FenceCommand is not null)
            .Select(n => (Subject: n.Name, Key: "fence_command", Command: n.FenceCommand!, Blocks: n.Name == context.Primary))
            .Concat(new[] { ("hooks.on_failover", "on_failover", options.Hooks.OnFailover, true), ("hooks.on_split_brain", "on_split_brain", options.Hooks.OnSplitBrain, false) }
                .Where(h => h.Item3 is not null)
                .Select(h => (Subject: h.Item1, Key: h.Item2, Command: h.Item3!, Blocks: h.Item4)));
        var problems = await Task.WhenAll(commands.Select(async c =>
            await MissingProgramAsync(c.Command, options.Hooks.Timeout, cancellationToken) is { } missing
                ? new ReadinessProblem(c.Subject, $"{c.Key} cannot run: {missing}", c.Blocks)
                : null));
        return [.. problems.OfType<ReadinessProblem>()];
    }

    /// <summary>Null when the command's program is found and executable (or a shell builtin), else why not.</summary>
    internal static async Task<string?> MissingProgramAsync(string commandLine, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (FirstWord(commandLine) is not { } program)
        {
            return "the command is empty";
        }

        // The same shell that runs the command answers: builtins, PATH and the execute bit as it sees them.
        var found = await ExternalProcess.RunAsync("/bin/sh", ["-c", "command -v -- \"$1\"", "sh", program], timeout, cancellationToken);
        return found.Succeeded ? null : $"{program} is not found or not executable";
    }

    /// <summary>The program of a shell command line: its first word after any VAR=value assignments, quotes removed.</summary>
    internal static string? FirstWord(string commandLine)
    {
        foreach (var word in commandLine.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            var bare = word.Trim('"', '\'').TrimEnd(';', '&', '|');
            var equals = bare.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && bare[..equals].All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                continue;
            }

            return bare.Length > 0 ? bare : null;
        }

        return null;
    }
}
