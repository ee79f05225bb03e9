using System.CommandLine;
using FailoverWatch.Backup;
using FailoverWatch.Backup.Restore;

namespace FailoverWatch.Cli;

internal static class RestoreCommand
{
    public static Command Create()
    {
        var config = ConfigFileOption.Create();
        var backupId = BackupCommandSupport.BackupIdOption(required: true);
        var kind = new Option<string>("--kind") { Description = "postgres, secrets, media, redis or certs", Required = true };
        kind.AcceptOnlyFromAmong([.. BackupKinds.All]);
        var target = new Option<string>("--target") { Description = "Where to write: a file or folder (dump, rdb), a folder (secrets, media, certs)", Required = true };
        var command = new Command("restore", "Write one kind of a backup back out") { config, backupId, kind, target };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var (selected, exitCode) = await BackupCommandSupport.SelectAsync(parseResult, config, backupId, cancellationToken);
            if (selected is null)
            {
                return exitCode;
            }

            try
            {
                var written = await BackupRestorer.RestoreAsync(selected.FolderPath, selected.Manifest, parseResult.GetRequiredValue(kind), Path.GetFullPath(parseResult.GetRequiredValue(target)), cancellationToken);
                Console.WriteLine($"restored {parseResult.GetRequiredValue(kind)} of {selected.Id} to {written}");
                return 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or InvalidDataException)
            {
                Console.Error.WriteLine($"restore failed: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
