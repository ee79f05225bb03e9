using FailoverWatch.Configuration;
using FailoverWatch.LocalServers;
using FailoverWatch.Processes;

namespace FailoverWatch.Backup.Restore;

/// <summary>
/// The OS account the restore test's scratch server and psql run as. Restoring a dump runs code the database's owners
/// wrote (functions in index expressions and check constraints), so it must not be an account that can read the restic
/// password, the admin token or ssh keys. Only root can become another account (runuser); the service, which is not
/// root, reaches its account through a socket unit (<see cref="RestoreTestSocket"/>), and check-config says when it cannot.
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

    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// check-config and doctor warnings: the service (User=failoverwatch, not root) would run the restore test as itself
    /// for want of the socket unit, or cannot connect to it; run as root, the restore test would run as the service user,
    /// or as no one that exists. Asked as the service user: run as root, a plain check would pass falsely.
    /// </summary>
    public static async Task<List<ConfigProblem>> WarningsAsync(BackupOptions backup, CancellationToken cancellationToken)
    {
        var warnings = new List<ConfigProblem>();
        if (backup.Postgres is not { Enabled: true })
        {
            return warnings;
        }

        var serviceUser = OsUser.IsRoot ? BackupSourceWarnings.ServiceUser : Environment.UserName;
        var socket = backup.RestoreTestSocket;
        if (!File.Exists(socket))
        {
            warnings.Add(new ConfigProblem("backup.restore_test_socket", $"{socket} does not exist, so the service, run as {serviceUser}, runs the restore test as {serviceUser} itself: a function in a restored dump can read whatever it can read; install contrib/failoverwatch-restore.socket and failoverwatch-restore@.service (docs/backups.md)"));
        }
        else
        {
            string[] writable = ["test", "-w", socket];
            var (program, arguments) = OsUser.IsRoot ? ("runuser", (string[])["-u", serviceUser, "--", .. writable]) : (writable[0], writable[1..]);
            if (!(await ExternalProcess.RunAsync(program, arguments, CheckTimeout, cancellationToken)).Succeeded)
            {
                warnings.Add(new ConfigProblem("backup.restore_test_socket", $"the service user {serviceUser} cannot connect to {socket} (the socket unit's SocketUser=), so the restore test cannot run"));
            }
        }

        if (!OsUser.IsRoot)
        {
            return warnings;
        }

        // Run as root (verify --restore-test by hand), the restore test becomes its account through runuser.
        var account = Resolve(backup.RestoreTestUser);
        if (account is "root" or BackupSourceWarnings.ServiceUser)
        {
            warnings.Add(new ConfigProblem("backup.restore_test_user", $"{account} is the service user: a function in a restored dump could read the restic password, the admin token and ssh keys"));
        }
        else if (!OsUser.Exists(account))
        {
            warnings.Add(new ConfigProblem("backup.restore_test_user", $"{account} does not exist, so the restore test cannot run"));
        }

        return warnings;
    }
}
