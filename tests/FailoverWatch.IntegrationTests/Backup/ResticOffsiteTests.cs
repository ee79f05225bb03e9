using FailoverWatch.Backup;
using FailoverWatch.Backup.Offsite;
using FailoverWatch.Backup.Restore;
using FailoverWatch.Backup.Store;
using FailoverWatch.Configuration;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Storage;

namespace FailoverWatch.IntegrationTests.Backup;

/// <summary>Off-site copies through real restic 0.14 (repository format 2), to a local path and over sftp to a real sshd.</summary>
public sealed class ResticOffsiteTests
{
    private const string Secret = "SECRET_KEY_BASE=abc\nOTP_SECRET=\u00e9\u00e8\nVAPID_PRIVATE_KEY=xyz\n";

    private const string PgPassword = "pg-password-never-in-argv";

    [Fact]
    public async Task local_repository_round_trip_gives_a_usable_backup_and_retention_forgets_only_this_hosts_failoverwatch_snapshots()
    {
        await using var pair = await PostgresPair.StartAsync();
        await BackupRig.PgbenchAsync(pair.Primary.Port, "postgres", 1);
        await BackupRig.CaughtUpAsync(pair);
        using var dir = new TempDirectory();
        var sources = Sources(dir);
        var repo = await ResticRepository.CreateAsync(dir.File("repo"), dir.File("restic.password"));
        // Someone else's snapshot in the same repository: retention must leave it alone.
        await repo.RunAsync("backup", "--tag", "other", dir.File("system"));
        // The env file reaches restic's environment (here its cache folder; in production the backend's credentials).
        BackupRig.WriteFile(dir.File("restic.env"), $"# restic's environment\nexport RESTIC_CACHE_DIR={dir.File("restic-cache")}\n", DurableFiles.OwnerOnly);
        // The nodes' password reaches pg_dumpall as PGPASSWORD (the pair trusts local logins, so only its path is tested here).
        BackupRig.WriteFile(dir.File("pg.password"), PgPassword + "\n", DurableFiles.OwnerOnly);
        var yaml = BackupRig.Nodes(pair).Replace("user: postgres }", $"user: postgres, password_file: {dir.File("pg.password")} }}", StringComparison.Ordinal) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              retention: { keep_last: 1, keep_daily: 0, keep_weekly: 0 }
              postgres: { from: standby }
            {{sources}}
            {{repo.Yaml(envFile: dir.File("restic.env"))}}
            """;
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (runner, metrics) = BackupRig.Runner(BackupRig.Load(yaml, dir.Path), clock);
        // Every command line on the host during the run (pg_dumpall, restic): no password in any.
        var argv = ArgvWatch.Start();
        var first = await runner.RunAsync(null, null, CancellationToken.None);
        await argv.AssertNoSecretAsync([PgPassword, ResticRepository.Password], ["pg_dumpall", "restic"]);
        Assert.True(first.Succeeded, first.Error);
        Assert.Equal(0, metrics.BackupFailures.Get("offsite"));
        Assert.True(Directory.Exists(dir.File("restic-cache")), "the env file's RESTIC_CACHE_DIR was not in restic's environment");

        // restic alone gives the backup back, media and a dump that loads with every row count included.
        var manifest = await RestoreLatestAsync(repo, dir, first.Id);
        Assert.Equal("png", await File.ReadAllTextAsync(dir.File("back/media/a/b.png")));
        var (record, _, _) = await BackupVerification.RunAsync(dir.File("back"), manifest, new BackupOptions(), TimeProvider.System, CancellationToken.None);
        Assert.True(record.Ok, string.Join("\n", record.Problems));

        clock.Advance(TimeSpan.FromDays(1));
        var second = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(second.Succeeded, second.Error);
        var tags = await repo.TagsAsync();
        Assert.Equal(2, tags.Count);
        Assert.Contains(tags, t => t.SequenceEqual(["other"]));
        Assert.Contains(tags, t => t.Contains("failoverwatch") && t.Contains(second.Id) && t.Contains("kind=postgres") && t.Contains("host=" + Environment.MachineName));
        Assert.DoesNotContain(tags, t => t.Contains(first.Id));
        Assert.Equal(second.Manifest!.FinishedAt.ToUnixTimeSeconds(), metrics.BackupLastSuccess.Get("offsite"), 1.0);

        // verify --offsite: restic check, then the newest snapshot restored and every checksum re-checked.
        var lines = new List<string>();
        var target = new ResticOffsiteTarget(new ResticCommand(BackupRig.Load(yaml, dir.Path).Backup!.Offsite!.Restic!), Environment.MachineName);
        Assert.Empty(await OffsiteVerification.RunAsync(target, restore: true, lines.Add, CancellationToken.None));
        Assert.Contains($"{second.Id}: restored from {dir.File("repo")}, {second.Manifest.Files.Count} entries checked, 0 problems", lines);

        // A second monitor shares the repository with its own host's files and keep_last 1, its backups at the very same
        // ids: each host lists, parents and forgets its own snapshots alone, so neither's retention removes the other's.
        var fw2 = BackupRig.Load(yaml.Replace(dir.File("dest"), dir.File("dest-fw2"), StringComparison.Ordinal), dir.Path);
        fw2.Backup!.Postgres = null;
        var otherClock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (otherRunner, otherMetrics) = BackupRig.Runner(fw2, otherClock, "fw2");
        for (var day = 0; day < 2; day++)
        {
            otherClock.Advance(TimeSpan.FromDays(1));
            var other = await otherRunner.RunAsync(null, null, CancellationToken.None);
            Assert.True(other.Succeeded, other.Error);
            Assert.Equal(0, otherMetrics.BackupFailures.Get("offsite"));
            // Its first backup has second's id, but ours does not pass for its copy: it is sent (keep_last 1 keeps it alone).
            Assert.Contains(other.Id, Assert.Single(await repo.TagsAsync(), t => t.Contains("host=fw2")));
        }

        clock.Advance(TimeSpan.FromDays(2));
        var third = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(third.Succeeded, third.Error);
        tags = await repo.TagsAsync();
        Assert.Contains(tags, t => t.SequenceEqual(["other"]));
        var ours = tags.Where(t => t.Contains("host=" + Environment.MachineName)).ToList();
        var theirs = tags.Where(t => t.Contains("host=fw2")).ToList();
        Assert.True(ours.Count == 1 && ours[0].Contains(third.Id), string.Join(" | ", tags.Select(t => string.Join(",", t))));
        Assert.True(theirs.Count == 1 && !theirs[0].Contains("kind=postgres"), string.Join(" | ", tags.Select(t => string.Join(",", t))));
        Assert.Equal(3, tags.Count);
    }

    [Fact]
    public async Task missing_repository_or_wrong_password_keeps_the_local_backup_counts_the_failure_and_names_the_cause()
    {
        using var dir = new TempDirectory();
        var sources = Sources(dir);
        var missing = await ResticRepository.CreateAsync(dir.File("nowhere"), dir.File("restic.password"), init: false);
        var existing = await ResticRepository.CreateAsync(dir.File("repo"), dir.File("restic.password"));
        BackupRig.WriteFile(dir.File("wrong.password"), "not the password\n", DurableFiles.OwnerOnly);
        string Yaml(string offsite) => BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{dir.File("dest")}}
            {{sources}}
            {{offsite}}
            """;
        // Backup ids are per second: each run a second later on a clock of the test's own, not a second's sleep.
        var clock = new FakeClockSequence(DateTimeOffset.UtcNow);
        async Task<(BackupRunResult Result, double Failures)> RunAsync(string offsite)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            var (runner, metrics) = BackupRig.Runner(BackupRig.Load(Yaml(offsite), dir.Path), clock);
            var result = await runner.RunAsync(null, null, CancellationToken.None);
            return (result, metrics.BackupFailures.Get("offsite"));
        }

        var (noRepository, failures) = await RunAsync(missing.Yaml());
        Assert.Equal(("offsite", 1.0), (noRepository.FailedStep, failures));
        Assert.Contains("create it once with `restic init", noRepository.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir.File("nowhere")), "a repository must never be created by FailoverWatch");
        Assert.Contains(noRepository.Id, new BackupStore(dir.File("dest")).CompleteIds());
        await File.WriteAllTextAsync(dir.File("failoverwatch.yaml"), Yaml(missing.Yaml()));
        var (verifyExit, verifyOutput) = await MonitorProcess.RunCliAsync("verify", "--offsite", "--config", dir.File("failoverwatch.yaml"));
        Assert.True(verifyExit == 1, verifyOutput);
        Assert.Contains("restic init", verifyOutput, StringComparison.Ordinal);

        var (wrongPassword, failuresAgain) = await RunAsync(existing.Yaml(dir.File("wrong.password")));
        Assert.Equal(("offsite", 1.0), (wrongPassword.FailedStep, failuresAgain));
        Assert.Contains("wrong password", wrongPassword.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("not the password", wrongPassword.Error, StringComparison.Ordinal);
        Assert.Equal([noRepository.Id, wrongPassword.Id], new BackupStore(dir.File("dest")).CompleteIds());

        // A repository URL with a password (a REST server not there): the URL is named with its password masked.
        var (unreachable, _) = await RunAsync(missing.Yaml().Replace(dir.File("nowhere"), "rest:http://fw:url-password@127.0.0.1:1/repo", StringComparison.Ordinal));
        Assert.Contains("rest:http://fw:***@127.0.0.1:1/repo", unreachable.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("url-password", unreachable.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task sftp_repository_round_trip_and_a_run_while_the_backend_is_down_is_sent_at_the_next_run()
    {
        using var dir = new TempDirectory();
        var sources = Sources(dir);
        await using var sftp = await SftpServer.StartAsync();
        var repo = await ResticRepository.CreateAsync(sftp.RepositoryFor(dir.File("sftp-repo")), dir.File("restic.password"), sftp.SftpCommand);
        var yaml = BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{dir.File("dest")}}
            {{sources}}
            {{repo.Yaml()}}
            """;
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var (runner, metrics) = BackupRig.Runner(BackupRig.Load(yaml, dir.Path), clock);
        var first = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(first.Succeeded, first.Error);
        await RestoreLatestAsync(repo, dir, first.Id);

        await sftp.StopAsync();
        clock.Advance(TimeSpan.FromDays(1));
        var missed = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.Equal("offsite", missed.FailedStep);
        Assert.Equal(1, metrics.BackupFailures.Get("offsite"));
        Assert.Contains(missed.Id, new BackupStore(dir.File("dest")).CompleteIds());

        await sftp.StartAgainAsync();
        clock.Advance(TimeSpan.FromDays(1));
        var third = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(third.Succeeded, third.Error);
        var sent = (await repo.TagsAsync()).Select(t => t.Single(BackupStore.IsId)).ToList();
        Assert.Equal([first.Id, missed.Id, third.Id], sent);
    }

    /// <summary>restic alone gives the backup back: its own manifest, every checksum right, the secrets file byte for byte.</summary>
    private static async Task<BackupManifest> RestoreLatestAsync(ResticRepository repo, TempDirectory dir, string id)
    {
        await repo.RunAsync("restore", "latest", "--tag", "failoverwatch", "--target", dir.File("back"));
        var manifest = await ManifestJson.ReadAsync(dir.File("back/manifest.json"), CancellationToken.None);
        Assert.Equal(id, manifest.Id);
        Assert.Empty(await BackupVerifier.VerifyAsync(dir.File("back"), manifest.Files, CancellationToken.None));
        Assert.Equal(await File.ReadAllBytesAsync(dir.File("live/.env.production")), await File.ReadAllBytesAsync(dir.File("back/secrets") + dir.File("live/.env.production")));
        return manifest;
    }

    /// <summary>A secrets file (0600, not ASCII) and a small media tree; the YAML lines that back them up.</summary>
    private static string Sources(TempDirectory dir)
    {
        BackupRig.WriteFile(dir.File("live/.env.production"), Secret, DurableFiles.OwnerOnly);
        BackupRig.WriteFile(dir.File("system/a/b.png"), "png", (UnixFileMode)Convert.ToInt32("644", 8));
        BackupRig.WriteFile(dir.File("system/c/d.jpg"), "jpg", (UnixFileMode)Convert.ToInt32("640", 8));
        return $$"""
              secrets: { paths: [{{dir.File("live/.env.production")}}] }
              media: { path: {{dir.File("system")}} }
            """;
    }
}
