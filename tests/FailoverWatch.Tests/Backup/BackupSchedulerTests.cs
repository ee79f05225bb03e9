using System.Diagnostics;
using System.Diagnostics.Metrics;
using FailoverWatch.Backup;
using FailoverWatch.Backup.Steps;
using FailoverWatch.Configuration;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FailoverWatch.Tests.Backup;

public sealed class BackupSchedulerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fw-scheduler-" + Guid.NewGuid().ToString("N")[..8]);

    public BackupSchedulerTests()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "secret"), "KEY=1");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task runs_at_the_cron_time_in_utc_and_not_before()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 2, 59, 0, TimeSpan.Zero));
        var options = new BackupOptions { Destination = Path.Combine(_dir, "dest"), Schedule = "0 3 * * *" };
        var meterFactory = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var runner = new BackupRunner(options, [new SecretsBackupStep(new SecretsBackupOptions { Paths = [Path.Combine(_dir, "secret")] })],
            new FailoverWatchMetrics(meterFactory), new BackupStatusBoard(), clock, NullLogger.Instance);
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
