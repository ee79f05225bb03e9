using FailoverWatch.Backup;
using FailoverWatch.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using FailoverWatch.Backup.Steps;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.Tests.Backup;

public sealed class RetentionTests : IDisposable
{
    private readonly SecretsBackupRig _rig = new();

    public void Dispose() => _rig.Dispose();

    [Fact]
    public async Task four_weeks_of_twice_daily_runs_keep_exactly_last_daily_and_weekly()
    {
        // Monday 2026-01-05 00:00 UTC, runs at 00:00 and 12:00 for 28 days; the last is Sunday 2026-02-01 12:00.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero));
        var runner = Runner(clock, new RetentionOptions { KeepLast = 3, KeepDaily = 5, KeepWeekly = 3 }, failing: false);
        for (var i = 0; i < 56; i++)
        {
            Assert.True((await runner.RunAsync(null, null, CancellationToken.None)).Succeeded);
            clock.Advance(TimeSpan.FromHours(12));
        }

        string[] expected =
        [
            "20260118T120000Z", // newest of ISO week 3
            "20260125T120000Z", // newest of ISO week 4
            "20260128T120000Z", "20260129T120000Z", "20260130T120000Z", // daily
            "20260131T120000Z", // daily and last
            "20260201T000000Z", // last
            "20260201T120000Z", // newest: last, daily, weekly
        ];
        Assert.Equal(expected, new BackupStore(_rig.Destination).CompleteIds());
    }

    [Fact]
    public async Task failed_runs_are_never_counted_and_delete_nothing()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero));
        var retention = new RetentionOptions { KeepLast = 1, KeepDaily = 0, KeepWeekly = 0 };
        Assert.True((await Runner(clock, retention, failing: false).RunAsync(null, null, CancellationToken.None)).Succeeded);
        var failing = Runner(clock, retention, failing: true);
        for (var i = 0; i < 5; i++)
        {
            clock.Advance(TimeSpan.FromDays(1));
            var result = await failing.RunAsync(null, null, CancellationToken.None);
            Assert.False(result.Succeeded);
            Assert.Equal("broken", result.FailedStep);
            Assert.Equal("disk on fire", result.Error);
        }

        Assert.Equal(["20260105T000000Z"], new BackupStore(_rig.Destination).CompleteIds());
        Assert.Empty(Directory.EnumerateDirectories(_rig.Destination, ".tmp-*"));
    }

    [Fact]
    public async Task secrets_only_runs_never_delete_the_last_backup_holding_a_dump()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 3, 0, 0, TimeSpan.Zero));
        var options = new BackupOptions { Destination = _rig.Destination, Retention = new RetentionOptions { KeepLast = 2, KeepDaily = 0, KeepWeekly = 0 } };
        var runner = _rig.Runner(options, clock, _rig.SecretsStep, new DumpStep());
        var withDump = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(withDump.Succeeded, withDump.Error);
        for (var i = 0; i < 5; i++)
        {
            clock.Advance(TimeSpan.FromHours(1));
            Assert.True((await runner.RunAsync(new HashSet<string> { BackupKinds.Secrets }, null, CancellationToken.None)).Succeeded);
        }

        // keep_last 2 keeps the two newest secrets-only runs; the one dump there is stays, whatever its age.
        Assert.Equal([withDump.Id, "20260105T070000Z", "20260105T080000Z"], new BackupStore(_rig.Destination).CompleteIds());
    }

    [Fact]
    public async Task ten_days_of_failing_dumps_beside_good_secrets_keep_keep_last_dumps()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 3, 0, 0, TimeSpan.Zero));
        var options = new BackupOptions { Destination = _rig.Destination, Retention = new RetentionOptions { KeepLast = 3, KeepDaily = 0, KeepWeekly = 0 } };
        var dump = new DumpStep();
        var runner = _rig.Runner(options, clock, dump, _rig.SecretsStep);
        var good = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var result = await runner.RunAsync(null, null, CancellationToken.None);
            Assert.True(result.Succeeded, result.Error);
            good.Add(result.Id);
            clock.Advance(TimeSpan.FromDays(1));
        }

        dump.Broken = true;
        var partial = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var result = await runner.RunAsync(null, null, CancellationToken.None);
            Assert.False(result.Succeeded);
            Assert.Equal(BackupKinds.Postgres, result.FailedStep);
            Assert.Equal([BackupKinds.Secrets], result.Manifest!.Kinds);
            Assert.Equal([new FailedKind(BackupKinds.Postgres, "disk on fire")], result.Manifest.Failed!);
            partial.Add(result.Id);
            clock.Advance(TimeSpan.FromDays(1));
        }

        // The three newest dumps are days old, but nothing newer holds a dump; secrets keep their own three newest.
        var store = new BackupStore(_rig.Destination);
        Assert.Equal([.. good[^3..], .. partial[^3..]], store.CompleteIds());
        var newest = await store.ReadManifestAsync(partial[^1], CancellationToken.None);
        Assert.Empty(newest.OfKind(BackupKinds.Postgres));
        Assert.False(Directory.Exists(Path.Combine(store.PathOf(partial[^1]), BackupKinds.Postgres)));
    }

    [Fact]
    public void keep_counts_apply_to_each_kind_on_its_own()
    {
        var day = new DateTimeOffset(2026, 3, 2, 3, 0, 0, TimeSpan.Zero);
        // Days 0-3 hold a dump and certs; days 4-9 certs alone.
        var candidates = Enumerable.Range(0, 10)
            .Select(d => new RetentionPolicy.Candidate(BackupStore.IdFor(day.AddDays(d)), d < 4 ? [BackupKinds.Postgres, BackupKinds.Certs] : [BackupKinds.Certs]))
            .ToList();
        var keep = RetentionPolicy.Keep(candidates, new RetentionOptions { KeepLast = 2, KeepDaily = 0, KeepWeekly = 0 });
        Assert.Equal([candidates[2].Id, candidates[3].Id, candidates[8].Id, candidates[9].Id], keep.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(1, 0, 0, 1)]
    [InlineData(3, 0, 0, 3)]
    [InlineData(1, 10, 0, 10)]
    [InlineData(1, 0, 2, 2)]
    public void newest_is_always_kept_and_counts_follow_the_policy(int last, int daily, int weekly, int kept)
    {
        var ids = Enumerable.Range(0, 30).Select(d => BackupStore.IdFor(new DateTimeOffset(2026, 3, 2, 3, 0, 0, TimeSpan.Zero).AddDays(d))).ToList();
        var keep = RetentionPolicy.Keep(ids.ConvertAll(id => new RetentionPolicy.Candidate(id, [])), new RetentionOptions { KeepLast = last, KeepDaily = daily, KeepWeekly = weekly });
        Assert.Contains(ids[^1], keep);
        Assert.Equal(kept, keep.Count);
    }

    private BackupRunner Runner(TimeProvider clock, RetentionOptions retention, bool failing) =>
        _rig.Runner(new BackupOptions { Destination = _rig.Destination, Retention = retention }, clock, failing ? new BrokenStep() : null);

    private sealed class BrokenStep : IBackupStep
    {
        public string Kind => "broken";

        public async Task<StepOutcome> RunAsync(BackupStepContext context, CancellationToken cancellationToken)
        {
            Directory.CreateDirectory(context.KindDirectory);
            await File.WriteAllTextAsync(Path.Combine(context.KindDirectory, "half"), "half", cancellationToken);
            throw new IOException("disk on fire");
        }
    }
}
