using FailoverWatch.Configuration;
using FailoverWatch.Failover;
using FailoverWatch.Processes;
using FailoverWatch.State;
using Microsoft.Extensions.Time.Testing;
using static FailoverWatch.Tests.Failover.Reports;

namespace FailoverWatch.Tests.Failover;

/// <summary>
/// Waits that could last for ever, on a fake clock: a process that survives SIGKILL (uninterruptible sleep), a state
/// file write that never returns (a hung disk), and the decision they would hold.
/// </summary>
public sealed class BoundedWaitTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new(Now);
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-bounded-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task the_wait_for_a_killed_process_that_never_exits_ends_after_the_grace()
    {
        var neverExits = new TaskCompletionSource();
        var waiting = ExternalProcess.ExitsWithinAsync(neverExits.Task, ExternalProcess.KillGrace, _clock);

        _clock.Advance(ExternalProcess.KillGrace - TimeSpan.FromMilliseconds(1));
        Assert.False(waiting.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(await waiting);

        var exited = Task.CompletedTask;
        Assert.True(await ExternalProcess.ExitsWithinAsync(exited, ExternalProcess.KillGrace, _clock));
    }

    [Fact]
    public async Task a_state_write_that_never_returns_fails_the_update_and_holds_every_later_write_until_it_returns()
    {
        var hung = new TaskCompletionSource();
        var writes = new List<FailoverState>();
        using var store = new FailoverStateStore(Path.Combine(_directory, "state.json"), s =>
        {
            lock (writes)
            {
                writes.Add(s);
            }

            return writes.Count == 1 ? hung.Task : Task.CompletedTask;
        }, _clock);

        var first = store.UpdateAsync(s => s with { Primary = "pg2" }, CancellationToken.None);
        Assert.True(await SecondsUntilDone(first) >= FailoverStateStore.WriteTimeout.TotalSeconds);
        await Assert.ThrowsAsync<IOException>(() => first);
        Assert.Null(store.Current.Primary);

        // No second write starts while the first has not returned: it fails too, after its own bound.
        var second = store.UpdateAsync(s => s with { Paused = true }, CancellationToken.None);
        Assert.True(await SecondsUntilDone(second) >= FailoverStateStore.WriteTimeout.TotalSeconds);
        await Assert.ThrowsAsync<IOException>(() => second);
        Assert.Single(writes);

        // Once it returns, the next write goes ahead.
        hung.SetResult();
        Assert.True((await store.UpdateAsync(s => s with { Paused = true }, CancellationToken.None)).Paused);
        Assert.Equal(2, writes.Count);
    }

    [Fact]
    public void a_decision_is_overdue_only_past_its_bound_plus_the_margin()
    {
        var clock = new DecisionClock(new FailoverWatchOptions(), _clock);
        Assert.Equal(TimeSpan.Zero, clock.Running);
        Assert.Null(clock.Overdue());

        clock.Start();
        _clock.Advance(clock.Bound + clock.Margin);
        Assert.Equal(clock.Bound + clock.Margin, clock.Running);
        Assert.Null(clock.Overdue());
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Contains("past its bound", clock.Overdue(), StringComparison.Ordinal);

        clock.Stop();
        Assert.Null(clock.Overdue());
    }

    /// <summary>Advances the fake clock a second at a time (letting the waiter set its timer first) until <paramref name="task"/> ends.</summary>
    private async Task<int> SecondsUntilDone(Task task)
    {
        var seconds = 0;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !task.IsCompleted && DateTime.UtcNow < deadline; seconds++)
        {
            await Task.Delay(20);
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(task.IsCompleted, "the update never ended");
        return seconds;
    }
}
