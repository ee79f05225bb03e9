using System.CommandLine;
using FailoverWatch.Backup.Restore;

namespace FailoverWatch.Cli;

/// <summary>
/// <c>restore-test-worker</c>, hidden: started by contrib/failoverwatch-restore@.service as the restore test's own account,
/// its standard input and output a connection of the restore test socket. Plain SQL in, one JSON object of row counts
/// out (<see cref="RestoreTestSocket"/>). No configuration: it reads nothing but its input.
/// </summary>
internal static class RestoreTestWorkerCommand
{
    public static Command Create()
    {
        var command = new Command("restore-test-worker", "Restore plain SQL from standard input into a scratch PostgreSQL, as this account, and print its row counts (run by the restore test socket unit)") { Hidden = true };
        command.SetAction(async (_, cancellationToken) =>
        {
            await using var input = Console.OpenStandardInput();
            var result = await ScratchRestore.RunAsync(input, Environment.UserName, cancellationToken);
            await using var output = Console.OpenStandardOutput();
            ScratchRestore.Write(result, output);
            return 0;
        });
        return command;
    }
}
