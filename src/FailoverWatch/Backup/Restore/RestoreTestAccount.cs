using FailoverWatch.Configuration;
using FailoverWatch.LocalServers;

namespace FailoverWatch.Backup.Restore;

/// <summary>
/// The OS account the restore test's scratch server and psql run as. Restoring a dump runs code the database's owners
/// wrote (functions in index expressions and check constraints), so it must not be an account that can read the restic
/// password, the admin token or ssh keys. Only root can become another account, so without root it is ourselves,
/// and check-config says so.
/// </summary>
internal static class RestoreTestAccount
{
    /// <summary>The account the .deb creates for it: no home, no shell, owns nothing.</summary>
    public const string Dedicated = "failoverwatch-restore";

    /// <summary>Owns no files by convention: the fallback when the dedicated account was not made.</summary>
    public const string Fallback = "nobody";

    /// <summary><c>backup.restore_test_user</c> if set, else the dedicated account if it exists, else <c>nobody</c>.</summary>
    public static string Resolve(string? configured) =>
        configured ?? (OsUser.Exists(Dedicated) ? Dedicated : Fallback);

    /// <summary>check-config and doctor warnings: the restore test would run as the service user, or as no one that exists.</summary>
    public static IEnumerable<ConfigProblem> Warnings(BackupOptions backup)
    {
        if (backup.Postgres is not { Enabled: true })
        {
            yield break;
        }

        if (!OsUser.IsRoot)
        {
            yield return new ConfigProblem("backup.restore_test_user", $"not running as root, so the restore test runs as the service user {Environment.UserName} itself: a function in a restored dump can read whatever it can read");
            yield break;
        }

        var account = Resolve(backup.RestoreTestUser);
        if (account is "root" or BackupSourceWarnings.ServiceUser)
        {
            yield return new ConfigProblem("backup.restore_test_user", $"{account} is the service user: a function in a restored dump could read the restic password, the admin token and ssh keys");
        }
        else if (!OsUser.Exists(account))
        {
            yield return new ConfigProblem("backup.restore_test_user", $"{account} does not exist, so the restore test cannot run");
        }
    }
}
