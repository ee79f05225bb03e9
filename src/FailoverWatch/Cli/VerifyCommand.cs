using System.CommandLine;
using FailoverWatch.Backup;
using FailoverWatch.Backup.Offsite;
using FailoverWatch.Backup.Restore;

namespace FailoverWatch.Cli;

internal static class VerifyCommand
{
    public static Command Create()
    {
        var config = ConfigFileOption.Create();
        var backupId = BackupCommandSupport.BackupIdOption(required: false);
        var restoreTest = new Option<bool>("--restore-test") { Description = "Also restore the dump into a scratch PostgreSQL and compare databases and row counts" };
        var offsite = new Option<bool>("--offsite") { Description = "Check the restic repository instead (restic check); with --restore-test, also restore its newest snapshot and re-check every checksum" };
        var command = new Command("verify", "Re-check every checksum of a backup against its manifest") { config, backupId, restoreTest, offsite };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (parseResult.GetValue(offsite))
            {
                return await VerifyOffsiteAsync(parseResult, config, parseResult.GetValue(restoreTest), cancellationToken);
            }

            var (selected, exitCode) = await BackupCommandSupport.SelectAsync(parseResult, config, backupId, cancellationToken);
            if (selected is null)
            {
                return exitCode;
            }

            var (id, manifest) = (selected.Id, selected.Manifest);
            var tested = parseResult.GetValue(restoreTest);
            var (record, checksumProblems, notRecorded) = await BackupVerification.RunAsync(selected.FolderPath, manifest, tested ? selected.Options : null, TimeProvider.System, cancellationToken);
            Console.WriteLine($"{id}: {manifest.Files.Count} entries checked, {checksumProblems} problems");
            if (tested && manifest.Postgres is { } dump && checksumProblems == 0)
            {
                var tables = dump.Databases.Sum(d => d.Tables.Count);
                Console.WriteLine($"{id}: restore test of {dump.Databases.Count} databases, {tables} tables: {record.Problems.Count} problems");
            }

            foreach (var problem in record.Problems)
            {
                Console.Error.WriteLine(problem);
            }

            if (notRecorded is not null)
            {
                Console.Error.WriteLine($"could not record the verification: {notRecorded}");
            }

            Console.WriteLine(record.Ok ? $"{id}: good" : $"{id}: BAD");
            return record.Ok ? 0 : 1;
        });
        return command;
    }

    private static async Task<int> VerifyOffsiteAsync(ParseResult parseResult, Option<string> config, bool restore, CancellationToken cancellationToken)
    {
        if (ConfigFileOption.Load(parseResult, config) is not { } options || BackupCommandSupport.BackupSection(options) is not { } backup)
        {
            return ConfigFileOption.InvalidConfigExitCode;
        }

        if (backup.Offsite?.Restic is not { } restic)
        {
            Console.Error.WriteLine("--offsite: backup.offsite.restic is not configured");
            return ConfigFileOption.InvalidConfigExitCode;
        }

        var problems = await OffsiteVerification.RunAsync(new ResticOffsiteTarget(new ResticCommand(restic), BackupHost.Of(options), Path.Combine(backup.Destination, OffsiteTargets.PartialsFileName)), restore, Console.WriteLine, cancellationToken);
        foreach (var problem in problems)
        {
            Console.Error.WriteLine(problem);
        }

        Console.WriteLine(problems.Count == 0 ? "offsite: good" : "offsite: BAD");
        return problems.Count == 0 ? 0 : 1;
    }
}
