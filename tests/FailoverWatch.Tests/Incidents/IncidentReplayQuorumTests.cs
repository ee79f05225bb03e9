using FailoverWatch.Failover;
using FailoverWatch.State;
using static FailoverWatch.Tests.Failover.Reports;

namespace FailoverWatch.Tests.Incidents;

/// <summary>A coordinated incident replays with the monitors' votes each round was decided with, not as one monitor alone.</summary>
public sealed class IncidentReplayQuorumTests : IDisposable
{
    private static readonly MonitorQuorum TwoOfThree = new(3, ["fw2", "fw3"]);
    private static readonly MonitorQuorum OneOfThree = new(3, ["fw1"]);

    private readonly string _directory = Directory.CreateTempSubdirectory("fw-incident-quorum-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>One round of a dead pg1 as the leader recorded it: its own failed probes and the votes it decided with.</summary>
    private static Incident Round(int ownFailures, MonitorQuorum? quorum)
    {
        var at = Now.AddSeconds(ownFailures);
        var view = View("pg1", 5000, Down("pg1") with { ProbedAt = at }, Standby("pg2", received: 4000) with { ProbedAt = at });
        var health = new PrimaryHealth(ownFailures, Now, null);
        var decision = FailoverPolicy.Decide(view, new FailoverState { Primary = "pg1" }, health, IncidentReplayTests.Settings, at, quorum);
        var round = new IncidentRound(at, [.. view.Nodes.Select(n => n.Report)], view.PrimaryLsn?.ToString(), "pg1", false, null, health, decision.GetType().Name, decision.Reason, quorum);
        return new Incident
        {
            Id = "20261125T120001.000Z-failover", Kind = IncidentKinds.Failover, Decision = round.Decision, Reason = round.Reason,
            From = "pg1", To = "pg2", Rounds = [round], Settings = IncidentReplayTests.Settings, Phases = [new(IncidentPhases.Decided, at, true, null)],
        };
    }

    [Fact]
    public void a_failover_the_majority_decided_before_the_leaders_own_threshold_replays_as_that_failover()
    {
        var incident = Round(ownFailures: 1, TwoOfThree);
        Assert.Equal(nameof(Promote), incident.Rounds[0].Decision);

        var (_, replayed) = Assert.Single(IncidentReplay.Replay(incident));
        Assert.IsType<Promote>(replayed);
        var text = IncidentReplay.Explain(incident);
        Assert.Contains("monitors: 2 of 3 live monitors see it down (fw2, fw3)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("recorded then", text, StringComparison.Ordinal);

        // Without the votes the same round is one monitor's first failed probe: what explain used to say.
        var (_, alone) = Assert.Single(IncidentReplay.Replay(incident with { Rounds = [incident.Rounds[0] with { Quorum = null }] }));
        Assert.IsType<NoAction>(alone);
    }

    [Fact]
    public void a_failover_held_for_want_of_a_majority_replays_as_held_with_the_lone_voter_named()
    {
        var incident = Round(ownFailures: 3, OneOfThree);
        var (_, replayed) = Assert.Single(IncidentReplay.Replay(incident));
        Assert.Equal("no_quorum", Assert.IsType<HoldFailover>(replayed).Label);
        Assert.Contains("monitors: 1 of 3 live monitors see it down (fw1)", IncidentReplay.Explain(incident), StringComparison.Ordinal);
        Assert.IsType<Promote>(Assert.Single(IncidentReplay.Replay(incident with { Rounds = [incident.Rounds[0] with { Quorum = null }] })).Decision);
    }

    [Fact]
    public async Task the_votes_survive_the_stored_json_and_replay_the_same_after_loading()
    {
        var path = Path.Combine(_directory, "state.json");
        using (var store = new FailoverStateStore(path))
        {
            await store.UpdateAsync(s => s with { Primary = "pg2", Incidents = [Round(1, TwoOfThree), Round(3, null) with { Id = "20261125T120003.000Z-failover" }] }, CancellationToken.None);
        }

        var loaded = FailoverStateStore.Load(path).Incidents;
        Assert.Equal(["fw2", "fw3"], loaded[0].Rounds[0].Quorum!.SeeingPrimaryDown);
        Assert.Equal(3, loaded[0].Rounds[0].Quorum!.LiveMonitors);
        Assert.Null(loaded[1].Rounds[0].Quorum);
        Assert.Equal(IncidentReplay.Explain(Round(1, TwoOfThree)), IncidentReplay.Explain(loaded[0]));
    }
}
