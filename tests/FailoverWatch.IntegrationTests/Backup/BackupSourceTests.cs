using FailoverWatch.Backup;
using FailoverWatch.Backup.Store;
using FailoverWatch.IntegrationTests.Fixtures;

namespace FailoverWatch.IntegrationTests.Backup;

/// <summary>Media in object storage, and the sources check-config names as the service user would see them.</summary>
public sealed class BackupSourceTests
{
    private static readonly UnixFileMode Private = (UnixFileMode)Convert.ToInt32("600", 8);

    [Fact]
    public async Task s3_enabled_with_no_public_system_passes_check_config_and_backup_and_copies_no_media()
    {
        using var dir = new TempDirectory();
        var env = dir.File("live/.env.production");
        // Quoted, as dotenv allows: Mastodon compares the unquoted value with "true".
        BackupRig.WriteFile(env, "LOCAL_DOMAIN=example.org\nS3_ENABLED=\"true\"\nS3_BUCKET=files-example\n", Private);
        var config = dir.File("fw.yaml");
        await File.WriteAllTextAsync(config, BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              secrets: { paths: [{{env}}] }
              media: { path: {{dir.File("live/public/system")}} }
            """);

        var (checkExit, checkOutput) = await MonitorProcess.RunCliAsync("check-config", "--config", config);
        Assert.True(checkExit == 0, checkOutput);
        Assert.DoesNotContain("backup.media.path", checkOutput, StringComparison.Ordinal);
        var (backupExit, backupOutput) = await MonitorProcess.RunCliAsync("backup", "--config", config);
        Assert.True(backupExit == 0, backupOutput);
        var store = new BackupStore(dir.File("dest"));
        var manifest = await store.ReadManifestAsync(Assert.Single(store.CompleteIds()), CancellationToken.None);
        Assert.Equal([BackupKinds.Secrets, BackupKinds.Media], manifest.Kinds);
        Assert.Equal("in object storage (bucket files-example)", manifest.MediaInObjectStorage);
        Assert.Empty(manifest.OfKind(BackupKinds.Media));
        Assert.Null(manifest.Failed);

        // "True" is not Mastodon's "true": media is expected on disk, check-config names the missing folder, the kind fails alone.
        BackupRig.WriteFile(env, "S3_ENABLED=True\n", Private);
        (checkExit, checkOutput) = await MonitorProcess.RunCliAsync("check-config", "--config", config);
        Assert.True(checkExit == 0, checkOutput);
        Assert.Contains($"warning: backup.media.path: {dir.File("live/public/system")} does not exist", checkOutput, StringComparison.Ordinal);
        // A destination of its own: backup ids are per second, and this run may fall in the first one's.
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace(dir.File("dest"), dir.File("dest2"), StringComparison.Ordinal));
        (backupExit, backupOutput) = await MonitorProcess.RunCliAsync("backup", "--config", config);
        Assert.True(backupExit == 1, backupOutput);
        Assert.Contains("failed: media: ", backupOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task check_config_and_doctor_name_as_warnings_every_source_the_service_user_cannot_read()
    {
        await EnsureServiceUserAsync();
        using var dir = new TempDirectory();
        var env = dir.File("live/.env.production");
        BackupRig.WriteFile(env, "S3_ENABLED=false\n", Private);
        BackupRig.WriteFile(dir.File("system/a.png"), "png", (UnixFileMode)Convert.ToInt32("644", 8));
        BackupRig.WriteFile(dir.File("redis/dump.rdb"), "REDIS", Private);
        // The group way the docs describe: a key group-readable by a group the service user is in is not named.
        var readable = dir.File("letsencrypt/archive/example.org/privkey1.pem");
        BackupRig.WriteFile(readable, "OLD KEY", (UnixFileMode)Convert.ToInt32("640", 8));
        await BackupRig.Run("chgrp", [BackupSourceWarnings.ServiceUser, readable]);
        var renewed = dir.File("letsencrypt/archive/example.org/privkey2.pem");
        BackupRig.WriteFile(renewed, "NEW KEY", Private);
        var config = dir.File("fw.yaml");
        await File.WriteAllTextAsync(config, BackupRig.Nodes(null) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              secrets: { paths: [{{env}}] }
              media: { path: {{dir.File("system")}} }
              redis: { rdb_path: {{dir.File("redis/dump.rdb")}} }
              certs: { path: {{dir.File("letsencrypt")}} }
            """);

        var (exit, output) = await MonitorProcess.RunCliAsync("check-config", "--config", config);

        // Run as root, yet every 0600 root file is named: the check asks as the service user.
        Assert.True(exit == 0, output);
        Assert.Contains($"warning: backup.secrets.paths[0]: the service user failoverwatch cannot read {env}", output, StringComparison.Ordinal);
        Assert.Contains($"warning: backup.redis.rdb_path: the service user failoverwatch cannot read {dir.File("redis/dump.rdb")}", output, StringComparison.Ordinal);
        Assert.Contains($"warning: backup.certs.path: the service user failoverwatch cannot read {renewed}", output, StringComparison.Ordinal);
        Assert.DoesNotContain(readable, output, StringComparison.Ordinal);
        Assert.DoesNotContain("backup.media.path", output, StringComparison.Ordinal);

        var (_, doctorOutput) = await MonitorProcess.RunCliAsync("doctor", "--config", config);
        Assert.Contains($"warning: backup.certs.path: the service user failoverwatch cannot read {renewed}", doctorOutput, StringComparison.Ordinal);
    }

    /// <summary>The account the .deb creates; made here when the machine has none, as the package would.</summary>
    private static async Task EnsureServiceUserAsync()
    {
        var id = await FailoverWatch.Processes.ExternalProcess.RunAsync("id", [BackupSourceWarnings.ServiceUser], TimeSpan.FromSeconds(10), CancellationToken.None);
        if (!id.Succeeded)
        {
            await BackupRig.Run("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", BackupSourceWarnings.ServiceUser]);
        }
    }
}
