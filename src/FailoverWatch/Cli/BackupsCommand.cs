using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FailoverWatch.Backup.Steps;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.Cli;

internal static class BackupsCommand
{
    public static Command Create()
    {
        var config = ConfigFileOption.Create();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var command = new Command("backups", "List the complete backups: id, time, kinds, size, verified") { config, json };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (ConfigFileOption.Load(parseResult, config) is not { } options || BackupCommandSupport.BackupSection(options) is not { } backup)
            {
                return ConfigFileOption.InvalidConfigExitCode;
            }

            var store = new BackupStore(backup.Destination);
            var rows = new List<BackupListing>();
            foreach (var id in store.CompleteIds())
            {
                BackupManifest manifest;
                VerificationRecord? verification;
                try
                {
                    manifest = await store.ReadManifestAsync(id, cancellationToken);
                    verification = await store.ReadVerificationAsync(id, cancellationToken);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
                {
                    // One damaged backup must not hide the list of the others.
                    Console.Error.WriteLine($"{id}: cannot read: {e.Message}");
                    continue;
                }

                rows.Add(new BackupListing(id, manifest.StartedAt, manifest.Kinds, manifest.TotalBytes, verification?.Ok, verification?.VerifiedAt, manifest.Postgres?.Node)
                {
                    Failed = manifest.Failed?.ConvertAll(f => f.Kind),
                });
            }

            if (parseResult.GetValue(json))
            {
                Console.WriteLine(ManifestJson.Serialize(rows));
                return 0;
            }

            Console.WriteLine($"{"id",-17} {"time (UTC)",-20} {"size",10}  {"verified",-22} kinds");
            foreach (var row in rows)
            {
                var verified = row.Verified switch
                {
                    true => "ok " + row.VerifiedAt!.Value.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                    false => "BAD " + row.VerifiedAt!.Value.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                    null => "no",
                };
                Console.WriteLine($"{row.Id,-17} {row.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),-20} {StepProgress.Human(row.Size),10}  {verified,-22} {string.Join(",", row.Kinds)}{(row.Failed is { } failed ? $" (failed: {string.Join(",", failed)})" : "")}");
            }

            return 0;
        });
        return command;
    }
}
