using System.Text.RegularExpressions;
using FailoverWatch.Configuration;
using FailoverWatch.Processes;

namespace FailoverWatch.Backup.Offsite;

/// <summary>
/// Runs restic against the configured repository. The repository and the password file reach restic through its
/// environment (RESTIC_REPOSITORY, RESTIC_PASSWORD_FILE), and the env file's credentials are loaded into that child's
/// environment only: nothing secret on a command line, in our own environment, or in a log.
/// </summary>
internal sealed partial class ResticCommand(ResticOptions options)
{
    private const string NoRepositoryHint = "Is there a repository at the following location?";

    /// <summary>The repository as it may be shown: a password in a URL (<c>rest:https://user:pw@host/</c>) is masked.</summary>
    public string DisplayRepository { get; } = UrlPassword().Replace(options.Repository, "$1:***@");

    /// <summary>restic on PATH, or null.</summary>
    public static string? Program() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "restic"))
            .FirstOrDefault(File.Exists);

    /// <summary>Runs restic; on failure throws with restic's own message, or a pointer to <c>restic init</c> when there is no repository.</summary>
    public async Task<ProcessResult> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken, string? workingDirectory = null)
    {
        var result = await RunUncheckedAsync(arguments, cancellationToken, workingDirectory);
        return result.Succeeded ? result : throw Failure(result);
    }

    public Task<ProcessResult> RunUncheckedAsync(IEnumerable<string> arguments, CancellationToken cancellationToken, string? workingDirectory = null)
    {
        var environment = new Dictionary<string, string>(options.EnvFile is { } envFile ? EnvFile.Read(envFile) : new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            ["RESTIC_REPOSITORY"] = options.Repository,
            ["RESTIC_PASSWORD_FILE"] = options.PasswordFile,
            // Inherited ones would compete with the password file.
            ["RESTIC_PASSWORD"] = "",
            ["RESTIC_PASSWORD_COMMAND"] = "",
            ["RESTIC_PROGRESS_FPS"] = "",
        };
        var withOptions = options.Options.SelectMany(o => new[] { "-o", o }).Concat(arguments);
        return ExternalProcess.RunAsync(Program() ?? "restic", withOptions, options.Timeout, cancellationToken, environment, workingDirectory);
    }

    /// <summary>The error for a failed run: restic's own message, or a pointer to <c>restic init</c> when there is no repository.</summary>
    public InvalidOperationException Failure(ProcessResult result) => new(Explain(result));

    private string Explain(ProcessResult result)
    {
        if (result.StandardError.Contains(NoRepositoryHint, StringComparison.Ordinal))
        {
            return $"no restic repository at {DisplayRepository}: create it once with `restic init --repository-version 2` (FailoverWatch never creates one)";
        }

        if (result.TimedOut)
        {
            return $"restic did not finish within {Duration.Format(options.Timeout)} (backup.offsite.restic.timeout)";
        }

        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var fatal = lines.FirstOrDefault(l => l.StartsWith("Fatal:", StringComparison.Ordinal)) ?? lines.LastOrDefault() ?? $"exit {result.ExitCode}";
        // restic may name the repository as configured: never a URL's password in our logs.
        return $"restic: {fatal.Replace(options.Repository, DisplayRepository, StringComparison.Ordinal)}";
    }

    [GeneratedRegex(@"(//[^/@:\s]+):[^/@\s]*@")]
    private static partial Regex UrlPassword();
}
