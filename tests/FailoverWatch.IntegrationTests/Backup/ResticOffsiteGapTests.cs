using FailoverWatch.Backup;
using FailoverWatch.Backup.Offsite;
using FailoverWatch.Backup.Store;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Storage;

namespace FailoverWatch.IntegrationTests.Backup;

/// <summary>The off-site gaps, each caused for real against restic 0.14: an outage, a lock left behind, a prune that fails, a partial snapshot.</summary>
public sealed class ResticOffsiteGapTests
{
    [Fact]
    public async Task a_two_day_offsite_outage_with_keep_last_1_deletes_nothing_unsent_and_the_gauge_is_read_back_at_start()
    {
        using var dir = new TempDirectory();
        var repo = await ResticRepository.CreateAsync(dir.File("repo"), dir.File("restic.password"));
        var yaml = Yaml(dir, repo, "");
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (runner, metrics) = BackupRig.Runner(BackupRig.Load(yaml, dir.Path), clock);
        var sent = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(sent.Succeeded, sent.Error);

        // The repository is gone for two nights: each night's backup stays, whatever keep_last says.
        Directory.Move(dir.File("repo"), dir.File("repo-away"));
        var missed = new List<string>();
        for (var night = 0; night < 2; night++)
        {
            clock.Advance(TimeSpan.FromDays(1));
            var result = await runner.RunAsync(null, null, CancellationToken.None);
            Assert.Equal(OffsiteSync.Kind, result.FailedStep);
            missed.Add(result.Id);
        }

        // The first is off-site, but with the repository away nothing can say so: it is kept too.
        var store = new BackupStore(dir.File("dest"));
        Assert.Equal([sent.Id, .. missed], store.CompleteIds());

        Directory.Move(dir.File("repo-away"), dir.File("repo"));
        clock.Advance(TimeSpan.FromDays(1));
        var back = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(back.Succeeded, back.Error);
        Assert.Equal([back.Id], store.CompleteIds());
        Assert.Equal(0, metrics.BackupFailures.Get(BackupRunner.MinFreeKind));

        // A restarted host knows when the last off-site copy was made before its first run.
        var (restarted, fresh) = BackupRig.Runner(BackupRig.Load(yaml, dir.Path), clock);
        Assert.Equal(0, fresh.BackupLastSuccess.Get(OffsiteSync.Kind));
        await restarted.Offsite!.SeedAsync(store, CancellationToken.None);
        Assert.Equal(back.Manifest!.FinishedAt.ToUnixTimeSeconds(), fresh.BackupLastSuccess.Get(OffsiteSync.Kind), 1.0);
    }

    [Fact]
    public async Task below_min_free_the_oldest_unsent_backup_goes_first_and_is_counted()
    {
        using var dir = new TempDirectory();
        var repo = await ResticRepository.CreateAsync(dir.File("nowhere"), dir.File("restic.password"), init: false);
        // More free space than any disk has: every night is below the floor.
        var yaml = Yaml(dir, repo, "  min_free: 1000TB");
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (runner, metrics) = BackupRig.Runner(BackupRig.Load(yaml, dir.Path), clock);
        var ids = new List<string>();
        for (var night = 0; night < 3; night++)
        {
            ids.Add((await runner.RunAsync(null, null, CancellationToken.None)).Id);
            clock.Advance(TimeSpan.FromDays(1));
        }

        Assert.Equal([ids[^1]], new BackupStore(dir.File("dest")).CompleteIds());
        Assert.Equal(2, metrics.BackupFailures.Get(BackupRunner.MinFreeKind));
    }

    [Fact]
    public async Task a_stale_restic_lock_is_removed_before_the_run_and_retention_there_works()
    {
        using var dir = new TempDirectory();
        var repo = await ResticRepository.CreateAsync(dir.File("repo"), dir.File("restic.password"));
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (runner, _) = BackupRig.Runner(BackupRig.Load(Yaml(dir, repo, ""), dir.Path), clock);
        Assert.True((await runner.RunAsync(null, null, CancellationToken.None)).Succeeded);

        // A restic killed mid-run (as at its timeout) leaves its lock: forget --prune would refuse until unlocked.
        await using (var killed = await HoldLockAsync(repo, dir))
        {
        }

        Assert.NotEmpty(Directory.EnumerateFiles(dir.File("repo/locks")));
        clock.Advance(TimeSpan.FromDays(1));
        var next = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(next.Succeeded, next.Error);
        Assert.Equal([next.Id], (await repo.TagsAsync()).Where(t => t.Contains(ResticOffsiteTarget.Tag)).Select(t => t.Single(BackupStore.IsId)));
    }

    [Fact]
    public async Task a_prune_that_fails_is_reported_apart_and_the_copy_counts()
    {
        using var dir = new TempDirectory();
        var repo = await ResticRepository.CreateAsync(dir.File("repo"), dir.File("restic.password"));
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (runner, metrics) = BackupRig.Runner(BackupRig.Load(Yaml(dir, repo, ""), dir.Path), clock);
        Assert.True((await runner.RunAsync(null, null, CancellationToken.None)).Succeeded);

        // A live restic holds a shared lock: our snapshot goes in beside it, but forget --prune needs the repository alone.
        await using var holder = await HoldLockAsync(repo, dir);
        clock.Advance(TimeSpan.FromDays(1));
        var result = await runner.RunAsync(null, null, CancellationToken.None);

        Assert.Equal(OffsiteSync.PruneKind, result.FailedStep);
        Assert.Contains("unlock", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, metrics.BackupFailures.Get(OffsiteSync.Kind));
        Assert.Equal(1, metrics.BackupFailures.Get(OffsiteSync.PruneKind));
        Assert.Equal(result.Manifest!.FinishedAt.ToUnixTimeSeconds(), metrics.BackupLastSuccess.Get(OffsiteSync.Kind), 1.0);
        Assert.Contains(result.Id, (await repo.TagsAsync()).SelectMany(t => t));
    }

    [Fact]
    public async Task a_partial_snapshot_that_cannot_be_forgotten_never_passes_for_the_copy()
    {
        using var dir = new TempDirectory();
        var repo = await ResticRepository.CreateAsync(dir.File("repo"), dir.File("restic.password"));
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (runner, metrics) = BackupRig.Runner(BackupRig.Load(Yaml(dir, repo, "", keepLast: 5), dir.Path), clock);
        Assert.True((await runner.RunAsync(null, null, CancellationToken.None)).Succeeded);

        // restic runs without root's power over files, as the service user would: a backup file it cannot read makes the
        // snapshot partial (exit 3), and a live lock makes the forget of that partial snapshot fail.
        var wrapper = dir.File("bin/restic");
        BackupRig.WriteFile(wrapper, "#!/bin/sh\nexec setpriv --bounding-set -dac_override,-dac_read_search /usr/bin/restic \"$@\"\n", (UnixFileMode)Convert.ToInt32("755", 8));
        var path = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", dir.File("bin") + ":" + path);
        BackupRunResult partial;
        var store = new BackupStore(dir.File("dest"));
        try
        {
            clock.Advance(TimeSpan.FromDays(1));
            await using (var holder = await HoldLockAsync(repo, dir))
            {
                BackupRig.WriteFile(dir.File("live/.env.production"), "SECRET_KEY_BASE=new\n", DurableFiles.OwnerOnly);
                var (local, _) = BackupRig.Runner(BackupRig.Load(LocalOnly(dir), dir.Path), clock);
                partial = await local.RunAsync(null, null, CancellationToken.None);
                var unreadable = Path.Combine(store.PathOf(partial.Id), "secrets", dir.File("live/.env.production").TrimStart('/'));
                await BackupRig.Run("chown", ["65534:65534", unreadable]);
                clock.Advance(TimeSpan.FromDays(1));
                var result = await runner.RunAsync(null, null, CancellationToken.None);
                Assert.Equal(OffsiteSync.Kind, result.FailedStep);
                Assert.Contains($"could not be forgotten and would pass for backup {partial.Id}'s copy", result.Error, StringComparison.Ordinal);
                await BackupRig.Run("chown", ["0:0", unreadable]);
            }

            // The partial snapshot is still there, still tagged with the id, but listed apart: the next run sends the backup whole.
            Assert.True(File.Exists(Path.Combine(dir.File("dest"), OffsiteTargets.PartialsFileName)));
            Assert.Single(await repo.TagsAsync(), t => t.Contains(partial.Id));
            clock.Advance(TimeSpan.FromDays(1));
            var next = await runner.RunAsync(null, null, CancellationToken.None);
            Assert.True(next.Succeeded, next.Error);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
        }

        Assert.False(File.Exists(Path.Combine(dir.File("dest"), OffsiteTargets.PartialsFileName)), string.Join(" | ", (await repo.TagsAsync()).Select(t => string.Join(",", t))) + " locks: " + string.Join(",", Directory.EnumerateFiles(dir.File("repo/locks"))));
        var withId = (await repo.TagsAsync()).Where(t => t.Contains(partial.Id)).ToList();
        Assert.Single(withId);
        Assert.Equal(1, metrics.BackupFailures.Get(OffsiteSync.Kind));
    }

    /// <summary>The same backup without the off-site target: a local backup that the next run with it has to send.</summary>
    private static string LocalOnly(TempDirectory dir) => BackupRig.Nodes(null) + $$"""

        backup:
          destination: {{dir.File("dest")}}
          retention: { keep_last: 5 }
          secrets: { paths: [{{dir.File("live/.env.production")}}] }
        """;

    private static string Yaml(TempDirectory dir, ResticRepository repo, string extra, int keepLast = 1)
    {
        BackupRig.WriteFile(dir.File("live/.env.production"), "SECRET_KEY_BASE=abc\n", DurableFiles.OwnerOnly);
        return BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              retention: { keep_last: {{keepLast}}, keep_daily: 0, keep_weekly: 0 }
              secrets: { paths: [{{dir.File("live/.env.production")}}] }
            {{extra}}
            {{repo.Yaml()}}
            """;
    }

    /// <summary>
    /// A running <c>restic backup --stdin</c> waiting on its input: it holds a shared lock until killed, and leaves it,
    /// stale, when killed. Our own child, so its exit is reaped at once and restic sees its process gone.
    /// </summary>
    private static async Task<LockHolder> HoldLockAsync(ResticRepository repo, TempDirectory dir)
    {
        var locks = Path.Combine(repo.Repository, "locks");
        var before = Directory.EnumerateFiles(locks).Count();
        var start = new System.Diagnostics.ProcessStartInfo("restic") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["backup", "--stdin", "--tag", "holder"])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["RESTIC_REPOSITORY"] = repo.Repository;
        start.Environment["RESTIC_PASSWORD_FILE"] = repo.PasswordFile;
        start.Environment["RESTIC_CACHE_DIR"] = dir.File("holder-cache");
        var holder = new LockHolder(System.Diagnostics.Process.Start(start)!);
        await Wait.UntilAsync(() => Task.FromResult(Directory.EnumerateFiles(locks).Count() > before), TimeSpan.FromSeconds(60), "restic holding its lock");
        return holder;
    }

    private sealed class LockHolder(System.Diagnostics.Process process) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            process.Kill();
            await process.WaitForExitAsync();
            process.Dispose();
        }
    }
}
