using FailoverWatch.LocalServers;
using FailoverWatch.Backup.Store;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Backup.Restore;

/// <summary>
/// Restores a dump into a scratch PostgreSQL (<see cref="ScratchRestore"/>) and compares every database and table row
/// count with what the manifest recorded at dump time. Restoring runs code the database's owners wrote, so it runs as
/// an account of its own: as root through runuser (<see cref="RestoreTestAccount"/>); as the service user through the
/// restore test socket when one listens (<see cref="RestoreTestSocket"/>); else, said by check-config and doctor, as
/// the service user itself.
/// </summary>
internal static class PostgresRestoreTest
{
    public static async Task<IReadOnlyList<string>> RunAsync(string backupDirectory, PostgresDumpInfo dump, string? osUser, CancellationToken cancellationToken, string? socket = null)
    {
        var account = OsUser.IsRoot ? RestoreTestAccount.Resolve(osUser) : Environment.UserName;
        if (OsUser.IsRoot && !OsUser.Exists(account))
        {
            return [$"restore test: the OS user {account} (backup.restore_test_user) does not exist"];
        }

        var dumpFile = Path.Combine(backupDirectory, dump.DumpFile);
        ScratchRestore.Result restored;
        await using (var file = File.OpenRead(dumpFile))
        await using (var sql = DumpCompression.Decompress(file, DumpCompression.CompressionOf(dumpFile)))
        {
            if (!OsUser.IsRoot && socket is not null && File.Exists(socket))
            {
                try
                {
                    restored = await RestoreTestSocket.RunAsync(socket, sql, cancellationToken);
                }
                catch (Exception e) when (e is InvalidOperationException or IOException)
                {
                    return [$"restore test: {e.Message}"];
                }

                if (restored.Account == Environment.UserName || restored.Account == "root")
                {
                    // A worker with the service's own account defeats the socket: a failure, so it gets mended.
                    return [$"restore test: the worker behind {socket} ran as {restored.Account}, not an account of its own (its unit's User=)", .. Compare(dump, restored)];
                }
            }
            else
            {
                restored = await ScratchRestore.RunAsync(sql, account, cancellationToken);
            }
        }

        return Compare(dump, restored);
    }

    private static List<string> Compare(PostgresDumpInfo dump, ScratchRestore.Result restored)
    {
        var problems = new List<string>();
        if (restored.LoadProblem is { } loadProblem)
        {
            problems.Add(loadProblem);
        }

        foreach (var database in dump.Databases)
        {
            if (!restored.Databases.TryGetValue(database.Name, out var tables))
            {
                problems.Add($"database {database.Name}: not restored");
                continue;
            }

            foreach (var (table, rows) in database.Tables)
            {
                if (!tables.TryGetValue(table, out var got))
                {
                    problems.Add($"{database.Name}.{table}: table missing after restore");
                }
                else if (got != rows)
                {
                    problems.Add($"{database.Name}.{table}: {got} rows after restore, {rows} when dumped");
                }
            }
        }

        return problems;
    }
}
