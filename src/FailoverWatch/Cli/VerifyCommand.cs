using System.CommandLine;
using FailoverWatch.Backup;
using FailoverWatch.Storage;

namespace FailoverWatch.Cli;

internal static class VerifyCommand
{
    public static Command Create()
    {
        var config = ConfigFileOption.Create();
        var backupId = BackupCommandSupport.BackupIdOption(required: false);
        var restoreTest = new Option<bool>("--restore-test") { Description = "Also restore the dump into a scratch PostgreSQL and compare databases and row counts" };
        var command = new Command("verify", "Re-check every checksum of a backup against its manifest") { config, backupId, restoreTest };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var (selected, exitCode) = await BackupCommandSupport.SelectAsync(parseResult, config, backupId, cancellationToken);
            if (selected is null)
            {
                return exitCode;
            }

            var (id, manifest) = (selected.Id, selected.Manifest);

            var problems = (await BackupVerifier.VerifyAsync(selected.FolderPath, manifest.Files, cancellationToken)).ToList();
            Console.WriteLine($"{id}: {manifest.Files.Count} entries checked, {problems.Count} problems");
            var tested = parseResult.GetValue(restoreTest);
            if (tested)
            {
                if (manifest.Postgres is not { } dump)
                {
                    problems.Add("restore test: the backup holds no postgres dump");
                }
                else if (problems.Count == 0)
                {
                    var restoreProblems = await PostgresRestoreTest.RunAsync(selected.FolderPath, dump, cancellationToken);
                    var tables = dump.Databases.Sum(d => d.Tables.Count);
                    Console.WriteLine($"{id}: restore test of {dump.Databases.Count} databases, {tables} tables: {restoreProblems.Count} problems");
                    problems.AddRange(restoreProblems);
                }
            }

            foreach (var problem in problems)
            {
                Console.Error.WriteLine(problem);
            }

            var record = new VerificationRecord(TimeProvider.System.GetUtcNow(), problems.Count == 0, tested, problems);
            try
            {
                await DurableFiles.ReplaceAsync(Path.Combine(selected.FolderPath, BackupStore.VerificationFileName), ManifestJson.Serialize(record), DurableFiles.OwnerOnly, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A read-only copy can still be verified; only the record of it is lost.
                Console.Error.WriteLine($"could not record the verification: {e.Message}");
            }

            Console.WriteLine(problems.Count == 0 ? $"{id}: good" : $"{id}: BAD");
            return problems.Count == 0 ? 0 : 1;
        });
        return command;
    }
}
