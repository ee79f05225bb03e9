using FailoverWatch.Backup;
using FailoverWatch.Configuration;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Backup.Scheduling;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.IntegrationTests.Backup;

/// <summary>The scheduled restore test, run by the real host against a real backup of a real pair.</summary>
public sealed class RestoreTestSchedulerTests
{
    [Fact]
    public async Task a_passed_restore_test_is_published_and_kept_across_a_restart_and_a_damaged_dump_fails_it()
    {
        await using var pair = await PostgresPair.StartAsync();
        await BackupRig.PgbenchAsync(pair.Primary.Port, "postgres", 1);
        await BackupRig.CaughtUpAsync(pair);
        using var dir = new TempDirectory();
        FailoverWatchOptions Options(string name)
        {
            var options = RunningHost.OptionsFor(pair, Directory.CreateDirectory(dir.File(name)).FullName);
            options.Backup = new BackupOptions
            {
                Destination = dir.File("dest"),
                RestoreTestSchedule = "0 4 * * 0",
                Postgres = new PostgresBackupOptions { From = "standby" },
            };
            return options;
        }

        var id = "";
        await using (var host = await RunningHost.StartAsync(Options("first"), dir.File("first")))
        {
            var backup = await host.GetRequiredService<BackupRunner>().RunAsync(null, null, CancellationToken.None);
            Assert.True(backup.Succeeded, backup.Error);
            id = backup.Id;

            await host.GetRequiredService<RestoreTestScheduler>().RunOnceAsync(CancellationToken.None);
            var verification = await new BackupStore(dir.File("dest")).ReadVerificationAsync(id, CancellationToken.None);
            Assert.True(verification is { Ok: true, RestoreTested: true }, string.Join("; ", verification?.Problems ?? ["no verified.json"]));
            Assert.Equal(verification!.VerifiedAt.ToUnixTimeMilliseconds() / 1000.0, host.Metrics.RestoreTestLastSuccess.Get(BackupKinds.Postgres), 3);
            Assert.Equal(0, host.Metrics.RestoreTestFailures.Get(BackupKinds.Postgres));
        }

        // A restarted host knows the last passed restore test from verified.json: "too old" stays meaningful.
        await using var restarted = await RunningHost.StartAsync(Options("second"), dir.File("second"));
        await Wait.UntilAsync(() => restarted.Metrics.RestoreTestLastSuccess.Get(BackupKinds.Postgres) > 0, TimeSpan.FromSeconds(20), "restore test time seeded at start");

        // One flipped byte in the dump: the checksum catches it, the test fails and says so.
        var dump = Path.Combine(dir.File("dest"), id, "postgres", "dumpall.sql.zst");
        var bytes = await File.ReadAllBytesAsync(dump);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(dump, bytes);
        await restarted.GetRequiredService<RestoreTestScheduler>().RunOnceAsync(CancellationToken.None);
        Assert.Equal(1, restarted.Metrics.RestoreTestFailures.Get(BackupKinds.Postgres));
        var failed = await new BackupStore(dir.File("dest")).ReadVerificationAsync(id, CancellationToken.None);
        Assert.False(failed!.Ok);
        Assert.Contains(failed.Problems, p => p.Contains("dumpall.sql.zst", StringComparison.Ordinal));
    }
}
