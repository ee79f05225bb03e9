using System.Diagnostics;
using FailoverWatch.Backup.Scheduling;
using FailoverWatch.Backup.Store;
using FailoverWatch.Configuration;
using FailoverWatch.Tests.Backup;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FailoverWatch.Tests.Coordination;

/// <summary>Three monitors must not take three backups: a monitor that does not lead lets its schedule pass.</summary>
public sealed class LeaderOnlyScheduleTests : IDisposable
{
    private readonly SecretsBackupRig _rig = new();

    public void Dispose() => _rig.Dispose();

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 1)]
    public async Task a_scheduled_backup_is_taken_by_the_leader_alone(bool leads, int backups)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 2, 59, 0, TimeSpan.Zero));
        var options = new BackupOptions { Destination = _rig.Destination, Schedule = "0 3 * * *" };
        using var scheduler = new BackupScheduler(options, _rig.Runner(options, clock), clock, NullLogger<BackupScheduler>.Instance, new FixedLeadership(leads));
        var store = new BackupStore(options.Destination);
        var tomorrow = new DateTimeOffset(2026, 1, 6, 3, 0, 0, TimeSpan.Zero);

        await scheduler.StartAsync(CancellationToken.None);
        await UntilAsync(() => scheduler.NextScheduled is not null);
        clock.Advance(TimeSpan.FromMinutes(1));

        // Past 03:00 either way: the leader's run is complete, the follower waits for tomorrow's occurrence.
        await UntilAsync(() => store.CompleteIds().Count == backups && scheduler.NextScheduled == tomorrow);
        Assert.Equal(backups, store.CompleteIds().Count);
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
