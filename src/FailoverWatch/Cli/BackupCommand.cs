using System.CommandLine;
using FailoverWatch.Backup;
using FailoverWatch.Backup.Offsite;
using FailoverWatch.Backup.Steps;

namespace FailoverWatch.Cli;

internal static class BackupCommand
{
    public static Command Create()
    {
        var config = ConfigFileOption.Create();
        var only = new Option<string?>("--only") { Description = "Comma-separated kinds to take: postgres,secrets,media,redis,certs" };
        var command = new Command("backup", "Take one backup now, with a progress line per step") { config, only };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (ConfigFileOption.Load(parseResult, config) is not { } options || BackupCommandSupport.BackupSection(options) is null)
            {
                return ConfigFileOption.InvalidConfigExitCode;
            }

            HashSet<string>? kinds = null;
            if (parseResult.GetValue(only) is { } list)
            {
                kinds = [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                if (kinds.FirstOrDefault(k => !BackupKinds.All.Contains(k)) is { } unknown)
                {
                    Console.Error.WriteLine($"--only: unknown kind '{unknown}' (use {string.Join(",", BackupKinds.All)})");
                    return ConfigFileOption.InvalidConfigExitCode;
                }
            }

            var (runner, provider) = BackupCommandSupport.CreateRunner(options);
            await using (provider)
            {
                var result = await runner.RunAsync(kinds, step => Console.WriteLine(step), cancellationToken);
                if (result.Succeeded)
                {
                    Console.WriteLine($"backup {result.Id} complete: {StepProgress.Human(result.Manifest!.TotalBytes)} in {options.Backup!.Destination}");
                    foreach (var removed in result.Removed)
                    {
                        Console.WriteLine($"retention removed {removed}");
                    }

                    return 0;
                }

                if (result is { Manifest: { } kept, FailedKinds.Count: > 0 })
                {
                    Console.Error.WriteLine($"backup {result.Id} kept with {string.Join(",", kept.Kinds)} in {options.Backup!.Destination}; failed: "
                        + string.Join("; ", result.FailedKinds.Select(f => $"{f.Kind}: {f.Reason}")));
                    return 1;
                }

                Console.Error.WriteLine(result.FailedStep switch
                {
                    OffsiteSync.Kind => $"backup {result.Id} complete in {options.Backup!.Destination} and kept, but its off-site copy failed (sent at the next run): {result.Error}",
                    OffsiteSync.PruneKind => $"backup {result.Id} complete and off-site, but off-site retention failed (retried at the next run): {result.Error}",
                    _ => $"backup {result.Id} failed in step {result.FailedStep}: {result.Error}",
                });
                return 1;
            }
        });
        return command;
    }
}
