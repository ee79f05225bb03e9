using System.CommandLine;
using FailoverWatch.Backup;
using FailoverWatch.Cli;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Storage;
using FailoverWatch.Backup.Restore;
using FailoverWatch.Backup.Steps;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.IntegrationTests.Backup;

/// <summary>Real PostgreSQL pair with pgbench data, real redis-server, real files.</summary>
public sealed class BackupRunTests
{
    private static readonly DateTime OldTime = new(2025, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task full_run_from_standby_then_verify_restore_test_matches_every_row_count()
    {
        await using var pair = await PostgresPair.StartAsync();
        await BackupRig.PgbenchAsync(pair.Primary.Port, "postgres", 1);
        await BackupRig.PgbenchAsync(pair.Primary.Port, "mastodon", 2);
        await pair.Primary.ExecuteAsync("CREATE ROLE app LOGIN PASSWORD 'hunter2'", CancellationToken.None);
        // A quoted name and values with newlines: the row counts are read from the dump stream, and must still be right.
        await pair.Primary.ExecuteAsync("""CREATE TABLE "Odd Name" (t text); INSERT INTO "Odd Name" SELECT 'line ' || g || E'\nsecond' FROM generate_series(1, 37) g""", CancellationToken.None);
        await BackupRig.CaughtUpAsync(pair);
        await using var redis = await RedisServer.StartAsync();
        using var dir = new TempDirectory();
        BackupRig.WriteFile(dir.File("live/.env.production"), "SECRET_KEY_BASE=abc\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        BackupRig.WriteFile(dir.File("system/a/b.png"), "png", (UnixFileMode)Convert.ToInt32("640", 8));
        var config = dir.File("fw.yaml");
        await File.WriteAllTextAsync(config, BackupRig.Nodes(pair) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              postgres: { from: standby }
              secrets: { paths: [{{dir.File("live/.env.production")}}] }
              media: { path: {{dir.File("system")}} }
              redis: { host: 127.0.0.1, port: {{redis.Port}}, rdb_path: {{redis.RdbPath}}, save_timeout: 20s }
            """);

        // Through the CLI, as an operator would: exit codes are part of the contract.
        Assert.Equal(0, await Cli("backup", "--config", config));
        var store = new BackupStore(dir.File("dest"));
        var id = Assert.Single(store.CompleteIds());
        var manifest = await store.ReadManifestAsync(id, CancellationToken.None);

        Assert.Equal("pg2", manifest.Postgres!.Node);
        Assert.Equal("standby", manifest.Postgres.Role);
        Assert.StartsWith("15", manifest.Postgres.ServerVersion, StringComparison.Ordinal);
        Assert.Equal(200_000, manifest.Postgres.Databases.Single(d => d.Name == "mastodon").Tables["public.pgbench_accounts"]);
        Assert.Equal(100_000, manifest.Postgres.Databases.Single(d => d.Name == "postgres").Tables["public.pgbench_accounts"]);
        Assert.Equal(37, manifest.Postgres.Databases.Single(d => d.Name == "postgres").Tables["public.\"Odd Name\""]);
        Assert.True(manifest.Redis!.FreshSave);
        var dump = Path.Combine(store.PathOf(id), manifest.Postgres.DumpFile);
        Assert.Equal(DurableFiles.OwnerOnly, File.GetUnixFileMode(dump));
        Assert.Equal(DurableFiles.OwnerOnly, File.GetUnixFileMode(Path.Combine(store.PathOf(id), "secrets", dir.File("live/.env.production").TrimStart('/'))));
        Assert.Empty(Directory.EnumerateDirectories(dir.File("dest"), ".tmp-*"));

        Assert.Equal(0, await Cli("verify", "--config", config, "--restore-test"));
        var restored = await PostgresRestoreTest.RunAsync(store.PathOf(id), manifest.Postgres, null, CancellationToken.None);
        Assert.Empty(restored);
        Assert.Equal(0, await Cli("backups", "--config", config, "--json"));
    }

    [Fact]
    public async Task redis_dump_restores_into_fresh_redis_with_the_same_keys()
    {
        await using var redis = await RedisServer.StartAsync();
        await using (var connection = await redis.ConnectAsync())
        {
            var db = connection.GetDatabase();
            for (var i = 0; i < 500; i++)
            {
                await db.StringSetAsync($"key:{i}", $"value {i}");
            }

            await db.ListRightPushAsync("queue", ["a", "b", "c"]);
        }

        using var dir = new TempDirectory();
        var options = BackupRig.Load(BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              redis: { host: 127.0.0.1, port: {{redis.Port}}, rdb_path: {{redis.RdbPath}}, save_timeout: 20s }
            """, dir.Path);
        var (runner, _) = BackupRig.Runner(options);
        var result = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(result.Succeeded, result.Error);

        var target = Directory.CreateDirectory(dir.File("fresh-redis")).FullName;
        var store = new BackupStore(dir.File("dest"));
        await BackupRestorer.RestoreAsync(store.PathOf(result.Id), result.Manifest!, BackupKinds.Redis, target, CancellationToken.None);
        await using var fresh = await RedisServer.StartAsync(target);
        await using var check = await fresh.ConnectAsync();
        var freshDb = check.GetDatabase();
        Assert.Equal(501, (long)await check.GetServer("127.0.0.1", fresh.Port).DatabaseSizeAsync());
        Assert.Equal("value 42", await freshDb.StringGetAsync("key:42"));
        Assert.Equal(3, await freshDb.ListLengthAsync("queue"));
    }

    [Fact]
    public async Task redis_with_a_password_is_saved_fresh_and_a_wrong_password_is_named_in_the_manifest()
    {
        await using var redis = await RedisServer.StartAsync(password: "s3cret-redis");
        await using (var connection = await redis.ConnectAsync())
        {
            await connection.GetDatabase().StringSetAsync("key", "value");
        }

        using var dir = new TempDirectory();
        BackupRig.WriteFile(dir.File("redis.password"), "s3cret-redis\n", DurableFiles.OwnerOnly);
        BackupRig.WriteFile(dir.File("wrong.password"), "not-it\n", DurableFiles.OwnerOnly);
        Task<BackupRunResult> RunAsync(string passwordFile) => BackupRig.Runner(BackupRig.Load(BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{dir.File("dest-" + passwordFile)}}
              redis: { host: 127.0.0.1, port: {{redis.Port}}, rdb_path: {{redis.RdbPath}}, save_timeout: 20s, password_file: {{passwordFile}} }
            """, dir.Path)).Runner.RunAsync(null, null, CancellationToken.None);

        var fresh = await RunAsync("redis.password");
        Assert.True(fresh.Succeeded, fresh.Error);
        Assert.True(fresh.Manifest!.Redis!.FreshSave);

        var stale = await RunAsync("wrong.password");
        Assert.True(stale.Succeeded, stale.Error);
        Assert.False(stale.Manifest!.Redis!.FreshSave);
        Assert.Contains("refused authentication", stale.Manifest.Redis.Note, StringComparison.Ordinal);
        var manifestText = await File.ReadAllTextAsync(Path.Combine(dir.File("dest-wrong.password"), stale.Id, BackupManifest.FileName));
        Assert.DoesNotContain("not-it", manifestText, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-redis", manifestText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task redis_down_copies_the_existing_rdb_says_how_old_it_is_and_keeps_the_last_success_at_the_file_age()
    {
        using var dir = new TempDirectory();
        var written = DateTime.UtcNow.AddHours(-3);
        BackupRig.WriteFile(dir.File("redis/dump.rdb"), "REDIS0009-old-dump", (UnixFileMode)Convert.ToInt32("660", 8), written);
        var options = BackupRig.Load(BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              redis: { host: 127.0.0.1, port: {{LocalServers.OsUser.FreeLoopbackPort()}}, rdb_path: {{dir.File("redis/dump.rdb")}} }
            """, dir.Path);
        var (runner, metrics) = BackupRig.Runner(options);
        var result = await runner.RunAsync(null, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Error);
        Assert.False(result.Manifest!.Redis!.FreshSave);
        Assert.Contains("unreachable", result.Manifest.Redis.Note, StringComparison.Ordinal);
        Assert.Contains("written 3h ago", result.Manifest.Redis.Note, StringComparison.Ordinal);
        Assert.InRange(result.Manifest.Redis.FileAgeSeconds!.Value, 3 * 3600 - 120, 3 * 3600 + 120);
        // "Backup too old" must still see a three-hour-old Redis copy, not one from now.
        Assert.Equal(new DateTimeOffset(written).ToUnixTimeSeconds(), metrics.BackupLastSuccess.Get("redis"), 1.0);
        Assert.Equal("REDIS0009-old-dump", await File.ReadAllTextAsync(Path.Combine(dir.File("dest"), result.Id, "redis/dump.rdb")));
    }

    [Fact]
    public async Task media_second_run_copies_only_the_changed_file_and_links_the_rest_and_both_restore_whole()
    {
        using var dir = new TempDirectory();
        var media = dir.File("system");
        BackupRig.WriteFile(Path.Combine(media, "accounts/avatars/000/001/original/a.png"), "avatar", (UnixFileMode)Convert.ToInt32("644", 8), OldTime);
        BackupRig.WriteFile(Path.Combine(media, "media_attachments/files/1.jpg"), "one", (UnixFileMode)Convert.ToInt32("600", 8), OldTime);
        BackupRig.WriteFile(Path.Combine(media, "media_attachments/files/2.jpg"), "two", (UnixFileMode)Convert.ToInt32("4755", 8), OldTime);
        BackupRig.WriteFile(Path.Combine(media, "cache/x.bin"), "cache", (UnixFileMode)Convert.ToInt32("640", 8), OldTime);
        File.CreateSymbolicLink(Path.Combine(media, "latest.jpg"), "media_attachments/files/1.jpg");
        File.SetUnixFileMode(Path.Combine(media, "cache"), (UnixFileMode)Convert.ToInt32("750", 8));
        var fixedTime = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var options = BackupRig.Load(BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              offsite: { path: {{dir.File("offsite")}} }
              media: { path: {{media}} }
            """, dir.Path);
        var (runner, _) = BackupRig.Runner(options, fixedTime);
        var first = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(first.Succeeded, first.Error);

        BackupRig.WriteFile(Path.Combine(media, "media_attachments/files/2.jpg"), "TWO changed", (UnixFileMode)Convert.ToInt32("4755", 8));
        fixedTime.Advance(TimeSpan.FromDays(1));
        StepProgress? progress = null;
        var second = await runner.RunAsync(null, p => progress = p, CancellationToken.None);
        Assert.True(second.Succeeded, second.Error);

        // One file copied, the other three are the same inodes as in the first backup.
        Assert.Contains("1 files copied, 3 hard-linked", progress!.Note, StringComparison.Ordinal);
        Assert.Equal("TWO changed".Length, progress.BytesWritten);
        var store = new BackupStore(dir.File("dest"));
        foreach (var unchanged in new[] { "accounts/avatars/000/001/original/a.png", "media_attachments/files/1.jpg", "cache/x.bin" })
        {
            Assert.Equal(BackupRig.Inode(Path.Combine(store.PathOf(first.Id), "media", unchanged)), BackupRig.Inode(Path.Combine(store.PathOf(second.Id), "media", unchanged)));
        }

        Assert.NotEqual(BackupRig.Inode(Path.Combine(store.PathOf(first.Id), "media/media_attachments/files/2.jpg")), BackupRig.Inode(Path.Combine(store.PathOf(second.Id), "media/media_attachments/files/2.jpg")));

        // The off-site copy holds both, whole, and links unchanged files to its own previous copy too.
        var offsite = new BackupStore(dir.File("offsite"));
        Assert.Equal([first.Id, second.Id], offsite.CompleteIds());
        Assert.Equal(BackupRig.Inode(Path.Combine(offsite.PathOf(first.Id), "media/cache/x.bin")), BackupRig.Inode(Path.Combine(offsite.PathOf(second.Id), "media/cache/x.bin")));
        Assert.Empty(await BackupVerifier.VerifyAsync(offsite.PathOf(second.Id), second.Manifest!.Files, CancellationToken.None));

        foreach (var (run, twoContent) in new[] { (first, "two"), (second, "TWO changed") })
        {
            var target = dir.File("restored-" + run.Id);
            await BackupRestorer.RestoreAsync(store.PathOf(run.Id), run.Manifest!, BackupKinds.Media, target, CancellationToken.None);
            Assert.Equal(twoContent, await File.ReadAllTextAsync(Path.Combine(target, "media_attachments/files/2.jpg")));
            Assert.Equal((UnixFileMode)Convert.ToInt32("4755", 8), File.GetUnixFileMode(Path.Combine(target, "media_attachments/files/2.jpg")));
            Assert.Equal((UnixFileMode)Convert.ToInt32("600", 8), File.GetUnixFileMode(Path.Combine(target, "media_attachments/files/1.jpg")));
            Assert.Equal((UnixFileMode)Convert.ToInt32("750", 8), File.GetUnixFileMode(Path.Combine(target, "cache")));
            Assert.Equal(OldTime, File.GetLastWriteTimeUtc(Path.Combine(target, "accounts/avatars/000/001/original/a.png")));
            Assert.Equal("media_attachments/files/1.jpg", new FileInfo(Path.Combine(target, "latest.jpg")).LinkTarget);
            Assert.Equal(5, Directory.EnumerateFileSystemEntries(target, "*", SearchOption.AllDirectories).Count(p => File.Exists(p) || new FileInfo(p).LinkTarget is not null));
        }
    }

    [Fact]
    public async Task restore_gives_media_and_secrets_back_to_their_owners()
    {
        // Mastodon runs as its own user: a restored .env.production owned by root (mode 0600) is one it cannot read.
        var mastodon = new FileOwner(1234, 2345);
        var other = new FileOwner(3456, 4567);
        using var dir = new TempDirectory();
        var media = dir.File("system");
        var secrets = dir.File("live/.env.production");
        BackupRig.WriteFile(Path.Combine(media, "files/1.jpg"), "one", (UnixFileMode)Convert.ToInt32("4755", 8), OldTime);
        BackupRig.WriteFile(Path.Combine(media, "files/2.jpg"), "two", (UnixFileMode)Convert.ToInt32("644", 8), OldTime);
        File.CreateSymbolicLink(Path.Combine(media, "latest.jpg"), "files/1.jpg");
        BackupRig.WriteFile(secrets, "SECRET_KEY_BASE=x", (UnixFileMode)Convert.ToInt32("640", 8));
        foreach (var path in new[] { Path.Combine(media, "files"), Path.Combine(media, "files/1.jpg"), Path.Combine(media, "files/2.jpg"), secrets })
        {
            mastodon.ApplyTo(path);
        }

        other.ApplyTo(Path.Combine(media, "latest.jpg"));
        File.SetUnixFileMode(Path.Combine(media, "files/1.jpg"), (UnixFileMode)Convert.ToInt32("4755", 8));
        var clock = new FakeClockSequence(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero));
        var options = BackupRig.Load(BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              secrets: { paths: [{{secrets}}] }
              media: { path: {{media}} }
            """, dir.Path);
        var (runner, _) = BackupRig.Runner(options, clock);
        var first = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(first.Succeeded, first.Error);

        // A change of owner alone is a change: the file is copied anew with the new owner recorded, the old backup untouched.
        other.ApplyTo(Path.Combine(media, "files/2.jpg"));
        clock.Advance(TimeSpan.FromDays(1));
        StepProgress? progress = null;
        var second = await runner.RunAsync(null, p => { if (p.Kind == BackupKinds.Media) { progress = p; } }, CancellationToken.None);
        Assert.True(second.Succeeded, second.Error);
        Assert.Contains("1 files copied, 1 hard-linked", progress!.Note, StringComparison.Ordinal);

        var store = new BackupStore(dir.File("dest"));
        foreach (var (run, secondOwner) in new[] { (first, mastodon), (second, other) })
        {
            var target = dir.File("restored-" + run.Id);
            await BackupRestorer.RestoreAsync(store.PathOf(run.Id), run.Manifest!, BackupKinds.Media, target, CancellationToken.None);
            Assert.Equal(mastodon, FileOwner.Of(Path.Combine(target, "files")));
            Assert.Equal(mastodon, FileOwner.Of(Path.Combine(target, "files/1.jpg")));
            Assert.Equal((UnixFileMode)Convert.ToInt32("4755", 8), File.GetUnixFileMode(Path.Combine(target, "files/1.jpg")));
            Assert.Equal(secondOwner, FileOwner.Of(Path.Combine(target, "files/2.jpg")));
            Assert.Equal(other, FileOwner.Of(Path.Combine(target, "latest.jpg")));

            var root = dir.File("root-" + run.Id);
            await BackupRestorer.RestoreAsync(store.PathOf(run.Id), run.Manifest!, BackupKinds.Secrets, root, CancellationToken.None);
            var restoredSecrets = root + secrets;
            Assert.Equal(mastodon, FileOwner.Of(restoredSecrets));
            Assert.Equal(DurableFiles.OwnerOnly, File.GetUnixFileMode(restoredSecrets));
        }

        // The backup's own copies stay the runner's: only the manifest carries the owners.
        Assert.Equal(new FileOwner(0, 0), FileOwner.Of(Path.Combine(store.PathOf(first.Id), "media/files/1.jpg")));
    }

    [Fact]
    public async Task certs_restore_with_live_links_pointing_into_archive()
    {
        using var dir = new TempDirectory();
        var certs = dir.File("letsencrypt");
        BackupRig.WriteFile(Path.Combine(certs, "archive/example.org/fullchain1.pem"), "chain", (UnixFileMode)Convert.ToInt32("644", 8));
        BackupRig.WriteFile(Path.Combine(certs, "archive/example.org/privkey1.pem"), "key", (UnixFileMode)Convert.ToInt32("600", 8));
        Directory.CreateDirectory(Path.Combine(certs, "live/example.org"));
        File.CreateSymbolicLink(Path.Combine(certs, "live/example.org/fullchain.pem"), "../../archive/example.org/fullchain1.pem");
        File.CreateSymbolicLink(Path.Combine(certs, "live/example.org/privkey.pem"), "../../archive/example.org/privkey1.pem");
        File.SetUnixFileMode(Path.Combine(certs, "archive"), (UnixFileMode)Convert.ToInt32("700", 8));
        var options = BackupRig.Load(BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              certs: { path: {{certs}} }
            """, dir.Path);
        var (runner, _) = BackupRig.Runner(options);
        var result = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(result.Succeeded, result.Error);

        var target = dir.File("restored");
        await BackupRestorer.RestoreAsync(Path.Combine(dir.File("dest"), result.Id), result.Manifest!, BackupKinds.Certs, target, CancellationToken.None);
        var link = new FileInfo(Path.Combine(target, "live/example.org/privkey.pem"));
        Assert.Equal("../../archive/example.org/privkey1.pem", link.LinkTarget);
        Assert.Equal("key", await File.ReadAllTextAsync(link.FullName));
        Assert.Null(new FileInfo(Path.Combine(target, "archive/example.org/privkey1.pem")).LinkTarget);
        Assert.Equal((UnixFileMode)Convert.ToInt32("600", 8), File.GetUnixFileMode(Path.Combine(target, "archive/example.org/privkey1.pem")));
        Assert.Equal((UnixFileMode)Convert.ToInt32("700", 8), File.GetUnixFileMode(Path.Combine(target, "archive")));
    }

    private static Task<int> Cli(params string[] args) =>
        new RootCommand { BackupCommand.Create(), BackupsCommand.Create(), VerifyCommand.Create(), RestoreCommand.Create() }.Parse(args).InvokeAsync();
}
