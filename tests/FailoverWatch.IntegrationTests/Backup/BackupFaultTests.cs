using FailoverWatch.Backup;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Backup.Restore;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.IntegrationTests.Backup;

/// <summary>Failed runs: the previous backup stays intact, no complete-looking folder appears, the error names step and cause.</summary>
public sealed class BackupFaultTests
{
    [Fact]
    public async Task pg_dumpall_killed_midway_fails_the_run_and_keeps_the_previous_backup()
    {
        await using var pair = await PostgresPair.StartAsync();
        await BackupRig.PgbenchAsync(pair.Primary.Port, "postgres", 2);
        await BackupRig.CaughtUpAsync(pair);
        using var dir = new TempDirectory();
        var realPgDumpall = LocalServers.PostgresBinaries.Find().Tool("pg_dumpall");
        var wrapper = dir.File("pg_dumpall-killed");
        // Lets 200 kB of the real dump through, then dies by SIGKILL: a dump cut off mid-stream.
        await File.WriteAllTextAsync(wrapper, $"#!/bin/bash\n\"{realPgDumpall}\" \"$@\" | head -c 200000\nkill -9 $$\n");
        File.SetUnixFileMode(wrapper, (UnixFileMode)Convert.ToInt32("755", 8));
        var yaml = BackupRig.Nodes(pair) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              postgres: { from: standby }
            """;
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (good, _) = BackupRig.Runner(BackupRig.Load(yaml, dir.Path), clock);
        var previous = await good.RunAsync(null, null, CancellationToken.None);
        Assert.True(previous.Succeeded, previous.Error);

        clock.Advance(TimeSpan.FromDays(1));
        var (killed, metrics) = BackupRig.Runner(BackupRig.Load(yaml.Replace("{ from: standby }", $"{{ from: standby, pg_dumpall: {wrapper} }}", StringComparison.Ordinal), dir.Path), clock);
        var result = await killed.RunAsync(null, null, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal("postgres", result.FailedStep);
        Assert.Contains("killed by signal 9", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, metrics.BackupFailures.Get("postgres"));
        await AssertOnlyAsync(dir.File("dest"), previous);
    }

    [Fact]
    public async Task standby_down_the_dump_comes_from_the_primary_and_with_no_node_up_the_step_names_each_node()
    {
        await using var pair = await PostgresPair.StartAsync();
        await pair.Primary.ExecuteAsync("CREATE TABLE kept AS SELECT generate_series(1, 10) AS id", CancellationToken.None);
        await pair.Standby.StopAsync(CancellationToken.None, "immediate");
        using var dir = new TempDirectory();
        var yaml = BackupRig.Nodes(pair) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              postgres: { from: standby }
            """;
        // Backup ids are per second: the clock stands still until moved, so the second run never shares the first's id.
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (runner, metrics) = BackupRig.Runner(BackupRig.Load(yaml, dir.Path), clock);
        var fromPrimary = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(fromPrimary.Succeeded, fromPrimary.Error);
        Assert.Equal(("pg1", "primary"), (fromPrimary.Manifest!.Postgres!.Node, fromPrimary.Manifest.Postgres.Role));
        Assert.Equal(10, fromPrimary.Manifest.Postgres.Databases.Single(d => d.Name == "postgres").Tables["public.kept"]);

        await pair.Primary.StopAsync(CancellationToken.None, "immediate");
        clock.Advance(TimeSpan.FromDays(1));
        var noneUp = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.False(noneUp.Succeeded);
        Assert.Equal("postgres", noneUp.FailedStep);
        Assert.Contains("no node reachable for pg_dumpall (pg1: ", noneUp.Error, StringComparison.Ordinal);
        Assert.Contains("; pg2: ", noneUp.Error, StringComparison.Ordinal);
        Assert.Equal(1, metrics.BackupFailures.Get("postgres"));
        await AssertOnlyAsync(dir.File("dest"), fromPrimary);
    }

    [Fact]
    public async Task full_destination_fails_the_run_and_keeps_the_previous_backup()
    {
        using var dir = new TempDirectory();
        await using var mount = await TmpfsMount.MountAsync(dir.File("dest"), "1m");
        BackupRig.WriteFile(dir.File("system/small.txt"), "small", (UnixFileMode)Convert.ToInt32("644", 8));
        var yaml = BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{mount.Path}}
              media: { path: {{dir.File("system")}} }
            """;
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (runner, metrics) = BackupRig.Runner(BackupRig.Load(yaml, dir.Path), clock);
        var previous = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(previous.Succeeded, previous.Error);

        await File.WriteAllBytesAsync(dir.File("system/big.bin"), new byte[3 << 20]);
        clock.Advance(TimeSpan.FromDays(1));
        var result = await runner.RunAsync(null, null, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal("media", result.FailedStep);
        Assert.Contains("No space left on device", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, metrics.BackupFailures.Get("media"));
        await AssertOnlyAsync(mount.Path, previous);
    }

    [Fact]
    public async Task read_only_destination_fails_the_run_and_keeps_the_previous_backup()
    {
        using var dir = new TempDirectory();
        await using var mount = await TmpfsMount.MountAsync(dir.File("dest"), "8m");
        BackupRig.WriteFile(dir.File(".env.production"), "KEY=1", (UnixFileMode)Convert.ToInt32("600", 8));
        var yaml = BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{mount.Path}}
              secrets: { paths: [{{dir.File(".env.production")}}] }
            """;
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (runner, _) = BackupRig.Runner(BackupRig.Load(yaml, dir.Path), clock);
        var previous = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(previous.Succeeded, previous.Error);

        await mount.MakeReadOnlyAsync();
        clock.Advance(TimeSpan.FromDays(1));
        var result = await runner.RunAsync(null, null, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Contains("Read-only file system", result.Error, StringComparison.Ordinal);
        await AssertOnlyAsync(mount.Path, previous);
    }

    [Fact]
    public async Task verify_and_restore_of_a_backup_with_a_damaged_manifest_say_so_without_a_stack_trace()
    {
        using var dir = new TempDirectory();
        BackupRig.WriteFile(dir.File(".env.production"), "KEY=1", (UnixFileMode)Convert.ToInt32("600", 8));
        var config = dir.File("failoverwatch.yaml");
        await File.WriteAllTextAsync(config, BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              secrets: { paths: [{{dir.File(".env.production")}}] }
            """);
        var (backupExit, backupOutput) = await MonitorProcess.RunCliAsync("backup", "--config", config);
        Assert.True(backupExit == 0, backupOutput);
        var id = Assert.Single(new BackupStore(dir.File("dest")).CompleteIds());
        await File.WriteAllTextAsync(Path.Combine(dir.File("dest"), id, BackupManifest.FileName), "{ \"truncated\": ");

        foreach (var command in new[] { new[] { "verify" }, ["restore", "--kind", "secrets", "--target", dir.File("out"), "--backup", id] })
        {
            var (exit, output) = await MonitorProcess.RunCliAsync([.. command, "--config", config]);
            Assert.True(exit == 1, output);
            Assert.Contains($"{id}: cannot read manifest.json", output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(dir.File("out")));
    }

    [Fact]
    public async Task offsite_folder_unavailable_keeps_the_local_backup_and_the_next_run_sends_every_missed_one()
    {
        using var dir = new TempDirectory();
        BackupRig.WriteFile(dir.File(".env.production"), "SECRET_KEY_BASE=abc\n", FailoverWatch.Storage.DurableFiles.OwnerOnly);
        // A file where the off-site folder should be: the mount is "not there", and even root cannot write into it.
        await File.WriteAllTextAsync(dir.File("offsite"), "not a folder");
        var yaml = BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              offsite: { path: {{dir.File("offsite")}} }
              secrets: { paths: [{{dir.File(".env.production")}}] }
            """;
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (runner, metrics) = BackupRig.Runner(BackupRig.Load(yaml, dir.Path), clock);
        var missed = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.Equal("offsite", missed.FailedStep);
        Assert.Equal(1, metrics.BackupFailures.Get("offsite"));
        Assert.Equal([missed.Id], new BackupStore(dir.File("dest")).CompleteIds());

        File.Delete(dir.File("offsite"));
        clock.Advance(TimeSpan.FromDays(1));
        var next = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(next.Succeeded, next.Error);
        var offsite = new BackupStore(dir.File("offsite"));
        Assert.Equal([missed.Id, next.Id], offsite.CompleteIds());
        Assert.Empty(await BackupVerifier.VerifyAsync(offsite.PathOf(missed.Id), missed.Manifest!.Files, CancellationToken.None));
    }

    /// <summary>The previous backup is the only complete one and still verifies; nothing else that looks like a backup exists.</summary>
    private static async Task AssertOnlyAsync(string destination, BackupRunResult previous)
    {
        var store = new BackupStore(destination);
        Assert.Equal([previous.Id], store.CompleteIds());
        Assert.DoesNotContain(Directory.EnumerateDirectories(destination).Select(Path.GetFileName), n => BackupStore.IsId(n!) && n != previous.Id);
        Assert.Empty(await BackupVerifier.VerifyAsync(store.PathOf(previous.Id), previous.Manifest!.Files, CancellationToken.None));
    }
}
