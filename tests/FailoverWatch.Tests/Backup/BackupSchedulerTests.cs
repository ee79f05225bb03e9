using System.Diagnostics;
using FailoverWatch.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using FailoverWatch.Backup.Scheduling;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.Tests.Backup;

public sealed class BackupSchedulerTests : IDisposable
{
    private readonly SecretsBackupRig _rig = new();

    public void Dispose() => _rig.Dispose();

    [Fact]
    public async Task runs_at_the_cron_time_in_utc_and_not_before()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 2, 59, 0, TimeSpan.Zero));
        var options = new BackupOptions { Destination = _rig.Destination, Schedule = "0 3 * * *" };
        var runner = _rig.Runner(options, clock);
        using var scheduler = new BackupScheduler(options, runner, clock, NullLogger<BackupScheduler>.Instance);
        var store = new BackupStore(options.Destination);

        Assert.Equal(new DateTimeOffset(2026, 1, 5, 3, 0, 0, TimeSpan.Zero), scheduler.NextOccurrence(clock.GetUtcNow()));
        await scheduler.StartAsync(CancellationToken.None);
        // ExecuteAsync starts on its own thread: move the clock only once it waits for 03:00.
        var started = Stopwatch.StartNew();
        while (scheduler.NextScheduled is null && started.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(10);
        }

        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Empty(store.CompleteIds());

        clock.Advance(TimeSpan.FromSeconds(1));
        var waited = Stopwatch.StartNew();
        while (store.CompleteIds().Count == 0 && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(20);
        }

        Assert.Equal(["20260105T030000Z"], store.CompleteIds());
        await scheduler.StopAsync(CancellationToken.None);
    }
}
