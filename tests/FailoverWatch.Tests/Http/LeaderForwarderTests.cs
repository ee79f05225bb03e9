using FailoverWatch.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Time.Testing;

namespace FailoverWatch.Tests.Http;

/// <summary>How long a monitor that does not lead waits for the leader's answer to a request it forwarded.</summary>
public sealed class LeaderForwarderTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task a_bounded_request_is_answered_504_once_its_bound_has_passed_and_its_wait_is_cancelled()
    {
        var leader = new SilentLeader();
        var answer = LeaderForwarder.WithinAsync(leader.SendAsync, TimeSpan.FromMinutes(1), "the leader m1 at http://10.0.0.5:9797", _clock, CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.False(answer.IsCompleted);

        _clock.Advance(TimeSpan.FromSeconds(1));
        var problem = Assert.IsType<ProblemHttpResult>(await answer.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(StatusCodes.Status504GatewayTimeout, problem.StatusCode);
        Assert.Equal("the leader m1 at http://10.0.0.5:9797 did not answer within 60 s", problem.ProblemDetails.Detail);
        Assert.True(leader.Cancelled);
    }

    [Fact]
    public async Task a_drill_or_switchover_waits_as_long_as_the_leader_takes_and_stops_waiting_only_when_the_caller_goes_away()
    {
        var leader = new SilentLeader();
        using var caller = new CancellationTokenSource();
        var answer = LeaderForwarder.WithinAsync(leader.SendAsync, Timeout.InfiniteTimeSpan, "the leader m1", _clock, caller.Token);
        _clock.Advance(TimeSpan.FromDays(1));
        Assert.False(answer.IsCompleted);

        await caller.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answer.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(leader.Cancelled);
    }

    [Fact]
    public async Task the_leaders_answer_within_the_bound_is_passed_on()
    {
        var ok = Results.Ok();
        Assert.Same(ok, await LeaderForwarder.WithinAsync(_ => Task.FromResult(ok), TimeSpan.FromMinutes(1), "the leader m1", _clock, CancellationToken.None));
    }

    /// <summary>A leader that never answers: the forwarded request ends only by its cancellation.</summary>
    private sealed class SilentLeader
    {
        public bool Cancelled { get; private set; }

        public async Task<IResult> SendAsync(CancellationToken cancellationToken)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Cancelled = true;
                throw;
            }

            return Results.Ok();
        }
    }
}
