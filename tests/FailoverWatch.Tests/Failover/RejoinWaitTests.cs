using FailoverWatch.Failover;
using FailoverWatch.Incidents;
using Microsoft.Extensions.Time.Testing;

namespace FailoverWatch.Tests.Failover;

/// <summary>A switchover's wait for the rejoin of its target, on a fake clock: it goes on once the rejoin has finished, and gives up with a reason at its bound.</summary>
public sealed class RejoinWaitTests
{
    private readonly FakeTimeProvider _clock = new(Reports.Now);

    [Fact]
    public void the_wait_is_rejoin_timeout_but_never_past_two_minutes()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), RejoinWait.Bound(TimeSpan.FromSeconds(30)));
        Assert.Equal(RejoinWait.MaxWait, RejoinWait.Bound(TimeSpan.FromMinutes(30)));
    }

    [Fact]
    public async Task a_target_with_no_rejoin_goes_on_at_once()
    {
        Assert.Null(await RejoinWait.UntilIdleAsync(new Rejoins(() => false), "pg1", TimeSpan.FromMinutes(2), _clock, CancellationToken.None));
    }

    [Fact]
    public async Task a_rejoin_that_finishes_within_the_bound_lets_the_switchover_go_on_as_soon_as_it_has()
    {
        var finishes = _clock.GetUtcNow().AddSeconds(40);
        var wait = RejoinWait.UntilIdleAsync(new Rejoins(() => _clock.GetUtcNow() < finishes), "pg1", TimeSpan.FromMinutes(2), _clock, CancellationToken.None);

        await AdvanceUntilAsync(wait, TimeSpan.FromMinutes(3));

        Assert.Null(await wait);
        Assert.True(_clock.GetUtcNow() >= finishes, "went on before the rejoin had finished");
    }

    [Fact]
    public async Task a_rejoin_still_running_at_the_bound_refuses_the_switchover_saying_why()
    {
        var started = _clock.GetUtcNow();
        var wait = RejoinWait.UntilIdleAsync(new Rejoins(() => true), "pg1", TimeSpan.FromMinutes(2), _clock, CancellationToken.None);

        await AdvanceUntilAsync(wait, TimeSpan.FromMinutes(3));

        Assert.Equal(
            "a rejoin of pg1 is still pending or running after 120s; switch over to it once that rejoin has finished (log, failoverwatch incidents)",
            await wait);
        Assert.True(_clock.GetUtcNow() - started >= TimeSpan.FromMinutes(2), "gave up before its bound");
    }

    /// <summary>Moves the fake clock in the wait's own steps until it ends (or <paramref name="limit"/> passes on the fake clock).</summary>
    private async Task AdvanceUntilAsync(Task wait, TimeSpan limit)
    {
        var end = _clock.GetUtcNow() + limit;
        while (!wait.IsCompleted && _clock.GetUtcNow() < end)
        {
            await Task.Delay(1);
            _clock.Advance(TimeSpan.FromMilliseconds(200));
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!wait.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
    }

    private sealed class Rejoins(Func<bool> rejoining) : IRejoinRequests
    {
        public Task RequestAsync(string node, IncidentHandle incident, CancellationToken cancellationToken) => Task.CompletedTask;

        public bool IsRejoining(string node) => rejoining();

        public FailoverWatch.State.PendingRejoin? Prepare(string node, IncidentHandle incident) => null;
    }
}
