using FailoverWatch.Backup.Steps;
using FailoverWatch.Configuration;
using FailoverWatch.LocalServers;
using FailoverWatch.Processes;

namespace FailoverWatch.Backup;

/// <summary>
/// What <c>check-config</c> and <c>doctor</c> print as <c>warning:</c> lines about backup sources: each one the service
/// user cannot read (asked as that user: run as root, a plain check would pass falsely), and media that is neither on
/// disk nor in object storage. Warnings, never problems: a backup source never stops <c>run</c> and its failover.
/// </summary>
internal static class BackupSourceWarnings
{
    /// <summary>The account of config/failoverwatch.service and the .deb.</summary>
    public const string ServiceUser = "failoverwatch";

    private static readonly TimeSpan FindTimeout = TimeSpan.FromSeconds(30);

    public static async Task<IReadOnlyList<ConfigProblem>> CheckAsync(FailoverWatchOptions options, CancellationToken cancellationToken)
    {
        if (options.Backup is not { } backup)
        {
            return [];
        }

        var warnings = await Restore.RestoreTestAccount.WarningsAsync(backup, cancellationToken);
        // Each source is checked by itself (a file, or a folder's own entry); the certs tree file by file.
        var single = new List<(string Key, string Path)>();
        for (var i = 0; i < (backup.Secrets?.Paths.Count ?? 0); i++)
        {
            single.Add(($"backup.secrets.paths[{i}]", backup.Secrets!.Paths[i]));
        }

        if (backup.Redis is { } redis)
        {
            single.Add(("backup.redis.rdb_path", redis.RdbPath));
        }

        if (backup.Media is { } media)
        {
            if (Directory.Exists(media.Path))
            {
                single.Add(("backup.media.path", media.Path));
            }
            else if (!InObjectStorage(backup))
            {
                warnings.Add(new ConfigProblem("backup.media.path", $"{media.Path} does not exist, and no {MastodonObjectStorage.EnvFileName} among backup.secrets.paths says S3_ENABLED=true"));
            }
        }

        foreach (var (key, path) in single.Where(s => !File.Exists(s.Path) && !Directory.Exists(s.Path)))
        {
            warnings.Add(new ConfigProblem(key, $"{path} does not exist"));
        }

        var present = single.Where(s => File.Exists(s.Path) || Directory.Exists(s.Path)).ToList();
        var (user, unreadable) = await UnreadableAsync(["-maxdepth", "0"], present.Select(p => p.Path), cancellationToken);
        warnings.AddRange(present.Where(p => unreadable.Contains(p.Path)).Select(p => new ConfigProblem(p.Key, $"the service user {user} cannot read {p.Path}")));
        if (backup.Certs is { } certs && Directory.Exists(certs.Path))
        {
            var (_, inCerts) = await UnreadableAsync([], [certs.Path], cancellationToken);
            warnings.AddRange(inCerts.Order(StringComparer.Ordinal).Select(p => new ConfigProblem("backup.certs.path", $"the service user {user} cannot read {p}")));
        }

        return warnings;
    }

    private static bool InObjectStorage(BackupOptions backup)
    {
        try
        {
            return MastodonObjectStorage.EnvFileAmong(backup.Secrets?.Paths) is { } env && MastodonObjectStorage.Describe(env) is not null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// The paths under <paramref name="roots"/> that the service user cannot read (or, for folders, enter), by find's
    /// <c>-readable</c>, which asks the kernel (access(2)), ACLs and groups included, as the user find runs as.
    /// </summary>
    private static async Task<(string User, HashSet<string> Unreadable)> UnreadableAsync(string[] depth, IEnumerable<string> roots, CancellationToken cancellationToken)
    {
        var paths = roots.ToList();
        var user = OsUser.IsRoot ? ServiceUser : Environment.UserName;
        if (paths.Count == 0)
        {
            return (user, []);
        }

        string[] find = ["find", .. paths, .. depth, "(", "!", "-readable", "-o", "-type", "d", "!", "-executable", ")", "-print"];
        var (program, arguments) = OsUser.IsRoot ? ("runuser", (string[])["-u", ServiceUser, "--", .. find]) : (find[0], find[1..]);
        var result = await ExternalProcess.RunAsync(program, arguments, FindTimeout, cancellationToken);
        if (OsUser.IsRoot && result.StandardError.Contains("user " + ServiceUser + " does not exist", StringComparison.Ordinal))
        {
            // Without the service user there is no one to ask; every path is named so the warning is not missed.
            return ($"{ServiceUser} (no such user)", [.. paths]);
        }

        // find exits 1 after "Permission denied" on a folder it named already; its stdout is the answer either way.
        return (user, [.. result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)]);
    }
}
