using System.Diagnostics;
using FailoverWatch.Backup.Scheduling;
using FailoverWatch.Backup.Store;
using FailoverWatch.Configuration;
using FailoverWatch.Tests.Backup;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FailoverWatch.Tests.Coordination;

/// <summary>
/// Three monitors must not take three dumps: a monitor that does not lead takes, at its schedule, only the kinds of its
/// own host's files (certificates and .env.production live on particular hosts), and nothing when it names none.
/// </summary>
public sealed class LeaderOnlyScheduleTests : IDisposable
{
    private readonly SecretsBackupRig _rig = new();

    public void Dispose() => _rig.Dispose();

    [Theory]
    [InlineData(true, true, "postgres,secrets")]
    [InlineData(false, true, "secrets")]
    [InlineData(false, false, null)]
    public async Task the_leader_takes_the_dump_and_every_monitor_its_own_hosts_files(bool leads, bool namesFiles, string? kinds)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 2, 59, 0, TimeSpan.Zero));
        var options = new BackupOptions { Destination = _rig.Destination, Schedule = "0 3 * * *" };
        var runner = namesFiles ? _rig.Runner(options, clock, new DumpStep(), _rig.SecretsStep) : _rig.Runner(options, clock, new DumpStep());
        using var scheduler = new BackupScheduler(options, runner, clock, NullLogger<BackupScheduler>.Instance, new FixedLeadership(leads));
        var store = new BackupStore(options.Destination);
        var tomorrow = new DateTimeOffset(2026, 1, 6, 3, 0, 0, TimeSpan.Zero);

        await scheduler.StartAsync(CancellationToken.None);
        await UntilAsync(() => scheduler.NextScheduled is not null);
        clock.Advance(TimeSpan.FromMinutes(1));

        // Past 03:00 either way: the run (if any) is complete and the schedule waits for tomorrow's occurrence.
        var backups = kinds is null ? 0 : 1;
        await UntilAsync(() => store.CompleteIds().Count == backups && scheduler.NextScheduled == tomorrow);
        Assert.Equal(backups, store.CompleteIds().Count);
        if (kinds is not null)
        {
            Assert.Equal(kinds, string.Join(",", (await store.NewestAsync(CancellationToken.None))!.Value.Manifest.Kinds));
        }

        await scheduler.StopAsync(CancellationToken.None);
    }

    internal static async Task UntilAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "timed out");
            await Task.Delay(10);
        }
    }
}
