using FailoverWatch.Failover;
using FailoverWatch.Monitoring;
using FailoverWatch.State;
using static FailoverWatch.Tests.Failover.Reports;

namespace FailoverWatch.Tests.Incidents;

public sealed class IncidentReplayTests : IDisposable
{
    internal static readonly FailoverPolicySettings Settings = new(
        FailureThreshold: 3, MaxLagOnFailoverBytes: 16 << 20, AutoFailover: true,
        Nodes: [new("pg1", PrimaryAddress, 5432), new("pg2", "10.0.0.2", 5432)], RetryAfterFailedPromotion: TimeSpan.FromSeconds(30), PromotionTimeout: TimeSpan.FromSeconds(60));

    private readonly string _directory = Directory.CreateTempSubdirectory("fw-incident-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Three rounds of a dead primary, as the coordinator would have recorded them: the third promotes pg2.</summary>
    private static Incident KillOfPg1()
    {
        var rounds = Enumerable.Range(1, 3).Select(failures =>
        {
            var at = Now.AddSeconds(failures);
            var view = View("pg1", 5000, Down("pg1") with { ProbedAt = at }, Standby("pg2", received: 4000) with { ProbedAt = at });
            var health = new PrimaryHealth(failures, Now, null);
            var decision = FailoverPolicy.Decide(view, new FailoverState { Primary = "pg1" }, health, Settings, at);
            return new IncidentRound(at, [.. view.Nodes.Select(n => n.Report)], view.PrimaryLsn?.ToString(), "pg1", false, null, health, decision.GetType().Name, decision.Reason);
        }).ToList();
        return new Incident
        {
            Id = "20261125T120003.000Z-failover", Kind = IncidentKinds.Failover, Decision = nameof(Promote), Reason = rounds[^1].Reason,
            From = "pg1", To = "pg2", Result = FailoverResults.Promoted, WalLostBytes = 1000, Rounds = rounds, Settings = Settings,
            Phases = [new(IncidentPhases.Detected, Now.AddSeconds(1), true, null), new(IncidentPhases.Decided, Now.AddSeconds(3), true, null), new(IncidentPhases.Writable, Now.AddSeconds(3.2), true, null)],
        };
    }

    [Fact]
    public void replay_gives_each_recorded_round_its_decision_again()
    {
        var replayed = IncidentReplay.Replay(KillOfPg1());
        Assert.Equal([nameof(NoAction), nameof(NoAction), nameof(Promote)], replayed.Select(r => r.Decision.GetType().Name));
        Assert.All(replayed, r => Assert.Equal(r.Round.Reason, r.Decision.Reason));

        var text = IncidentReplay.Explain(KillOfPg1());
        Assert.Contains("primary pg1 failed 1 of 3 probes", text, StringComparison.Ordinal);
        Assert.Contains("=> Promote: primary pg1 failed 3 probes in a row", text, StringComparison.Ordinal);
        Assert.Contains("pg1: unreachable", text, StringComparison.Ordinal);
        Assert.Contains("writable   ", text, StringComparison.Ordinal);
        Assert.Contains("WAL lost: 1000 bytes", text, StringComparison.Ordinal);
        Assert.DoesNotContain("recorded then", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task an_incident_survives_the_state_file_and_replays_the_same_after_loading()
    {
        var path = Path.Combine(_directory, "state.json");
        using (var store = new FailoverStateStore(path))
        {
            await store.UpdateAsync(s => s with { Primary = "pg2", Incidents = [KillOfPg1()] }, CancellationToken.None);
        }

        var loaded = Assert.Single(FailoverStateStore.Load(path).Incidents);
        Assert.Equal(KillOfPg1().Rounds[2].Reports[1].HeldLsn, loaded.Rounds[2].Reports[1].HeldLsn);
        Assert.Equal(ProbeFailureKind.Unreachable, loaded.Rounds[0].Reports[0].Failure!.Kind);
        Assert.Equal(IncidentReplay.Explain(KillOfPg1()), IncidentReplay.Explain(loaded));
    }
}
