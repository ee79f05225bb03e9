using System.Globalization;
using System.Text.RegularExpressions;

namespace FailoverWatch.Rejoin;

/// <summary>
/// pg_rewind run through a small shell of its own session that owns the "rewind in progress" marker: it writes the
/// marker with its pid, sends pg_rewind's output to a file (a pipe whose reader died would kill pg_rewind with SIGPIPE
/// half-way) and removes the marker itself when pg_rewind succeeds. So a rejoin killed by <c>monitor.rejoin_timeout</c>
/// leaves no marker behind a rewind that finished, and the next rejoin can tell a rewind still running from one that
/// stopped half-way.
/// </summary>
internal static partial class RewindRun
{
    /// <summary>$1 marker, $2 log, $3 start time, then the program and its arguments.</summary>
    internal const string Script = """
        marker=$1 log=$2 started=$3
        shift 3
        printf 'pg_rewind started %s by pid %s\n' "$started" $$ > "$marker" || exit 1
        "$@" > "$log" 2>&1
        rc=$?
        if [ $rc -eq 0 ]; then rm -f "$marker"; fi
        cat "$log"
        exit $rc
        """;

    /// <summary>The arguments of <c>/bin/sh</c> that run <paramref name="program"/> under the marker.</summary>
    public static List<string> ShellArguments(string marker, string log, DateTimeOffset started, string program, IEnumerable<string> arguments) =>
        ["-c", Script, "sh", marker, log, started.ToString("O", CultureInfo.InvariantCulture), program, .. arguments];

    /// <summary>
    /// The pid of the wrapper named in <paramref name="marker"/> while it still runs; null when the marker names no
    /// process, or one that has gone (a pid reused since is told apart by its command line, which names the marker).
    /// </summary>
    public static int? RunningPid(string marker)
    {
        string text;
        try
        {
            text = File.ReadAllText(marker);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        if (PidPattern().Match(text) is not { Success: true } match || !int.TryParse(match.Groups[1].Value, CultureInfo.InvariantCulture, out var pid))
        {
            return null;
        }

        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0').Contains(marker) ? pid : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            // It runs, but whose it is cannot be read: take it for the rewind rather than start over a running one.
            return pid;
        }
    }

    [GeneratedRegex(@"by pid (\d+)")]
    private static partial Regex PidPattern();
}
