using FailoverWatch.LocalServers;
using FailoverWatch.Backup;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.IntegrationTests.Backup;

/// <summary>One kind failing for real (Redis gone, a renewed key unreadable) never costs the others: they are kept, verified and restorable.</summary>
public sealed class BackupKindIndependenceTests
{
    private static readonly UnixFileMode Private = (UnixFileMode)Convert.ToInt32("600", 8);

    [Fact]
    public async Task redis_down_and_its_rdb_gone_fails_redis_alone_and_the_dump_secrets_media_and_certs_are_kept_and_verified()
    {
        await using var pair = await PostgresPair.StartAsync();
        await pair.Primary.ExecuteAsync("CREATE TABLE kept AS SELECT generate_series(1, 10) AS id", CancellationToken.None);
        using var dir = new TempDirectory();
        var config = await WriteSourcesAsync(dir, BackupRig.Nodes(pair), $$"""
              postgres: { from: primary }
              redis: { host: 127.0.0.1, port: {{OsUser.FreeLoopbackPort()}}, rdb_path: {{dir.File("redis/dump.rdb")}}, save_timeout: 5s }
            """);
        var (runner, metrics) = BackupRig.Runner(BackupRig.Load(await File.ReadAllTextAsync(config), dir.Path));

        var result = await runner.RunAsync(null, null, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal(BackupKinds.Redis, result.FailedStep);
        Assert.Contains("does not exist", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, metrics.BackupFailures.Get(BackupKinds.Redis));
        Assert.Equal(0, metrics.BackupFailures.Get(BackupKinds.Postgres));
        Assert.Equal([BackupKinds.Postgres, BackupKinds.Secrets, BackupKinds.Media, BackupKinds.Certs], result.Manifest!.Kinds);
        Assert.Equal(BackupKinds.Redis, Assert.Single(result.Manifest.Failed!).Kind);
        Assert.Equal(10, result.Manifest.Postgres!.Databases.Single(d => d.Name == "postgres").Tables["public.kept"]);
        await AssertKeptAsync(dir, config, result.Id, "redis");
    }

    [Fact]
    public async Task an_unreadable_certificate_fails_certs_alone_and_secrets_and_media_are_kept_and_verified()
    {
        using var dir = new TempDirectory();
        var config = await WriteSourcesAsync(dir, BackupRig.Nodes(null), "");
        // certbot's renewed key, 0600 and owned by someone else: the run below lacks root's power to read it anyway.
        var key = Path.Combine(dir.Path, "root/letsencrypt/archive/example.org/privkey2.pem");
        BackupRig.WriteFile(key, "NEW KEY", Private);
        File.SetUnixFileMode(key, Private);
        await BackupRig.Run("chown", ["65534:65534", key]);

        var (exit, output) = await MonitorProcess.RunCliWithoutFileOverrideAsync("backup", "--config", config);

        Assert.True(exit == 1, output);
        Assert.Contains("failed: certs: ", output, StringComparison.Ordinal);
        Assert.Contains("privkey2.pem", output, StringComparison.Ordinal);
        var store = new BackupStore(Path.Combine(dir.Path, "root/dest"));
        var id = Assert.Single(store.CompleteIds());
        var manifest = await store.ReadManifestAsync(id, CancellationToken.None);
        Assert.Equal([BackupKinds.Secrets, BackupKinds.Media], manifest.Kinds);
        Assert.False(Directory.Exists(Path.Combine(store.PathOf(id), BackupKinds.Certs)));
        await AssertKeptAsync(dir, config, id, "certs");
    }

    /// <summary>Secrets, media and a certbot-like certs tree under a root-owned folder; the config adds <paramref name="extra"/> kinds.</summary>
    private static async Task<string> WriteSourcesAsync(TempDirectory dir, string nodes, string extra)
    {
        var root = Directory.CreateDirectory(dir.File("root")).FullName;
        BackupRig.WriteFile(Path.Combine(root, "live/.env.production"), "SECRET_KEY_BASE=abc\n", Private);
        BackupRig.WriteFile(Path.Combine(root, "system/a/b.png"), "png", (UnixFileMode)Convert.ToInt32("644", 8));
        BackupRig.WriteFile(Path.Combine(root, "letsencrypt/archive/example.org/privkey1.pem"), "OLD KEY", Private);
        Directory.CreateDirectory(Path.Combine(root, "letsencrypt/live/example.org"));
        File.CreateSymbolicLink(Path.Combine(root, "letsencrypt/live/example.org/privkey.pem"), "../../archive/example.org/privkey1.pem");
        var config = Path.Combine(root, "fw.yaml");
        await File.WriteAllTextAsync(config, nodes + $$"""

            backup:
              destination: {{Path.Combine(root, "dest")}}
              secrets: { paths: [{{Path.Combine(root, "live/.env.production")}}] }
              media: { path: {{Path.Combine(root, "system")}} }
              certs: { path: {{Path.Combine(root, "letsencrypt")}} }
            {{extra}}
            """);
        return config;
    }

    /// <summary>verify passes, backups lists the failed kind, and the kept kinds restore.</summary>
    private static async Task AssertKeptAsync(TempDirectory dir, string config, string id, string failedKind)
    {
        var (verifyExit, verifyOutput) = await MonitorProcess.RunCliAsync("verify", "--config", config);
        Assert.True(verifyExit == 0, verifyOutput);
        var (listExit, listOutput) = await MonitorProcess.RunCliAsync("backups", "--config", config);
        Assert.True(listExit == 0, listOutput);
        Assert.Contains($"(failed: {failedKind})", listOutput, StringComparison.Ordinal);
        var (restoreExit, restoreOutput) = await MonitorProcess.RunCliAsync("restore", "--kind", "media", "--target", dir.File("out"), "--backup", id, "--config", config);
        Assert.True(restoreExit == 0, restoreOutput);
        Assert.Equal("png", await File.ReadAllTextAsync(Path.Combine(dir.File("out"), "a/b.png")));
    }
}
