using Etcdserverpb;
using FailoverWatch.Coordination;
using FailoverWatch.Failover;
using FailoverWatch.Incidents;
using FailoverWatch.State;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;
using static FailoverWatch.Tests.Failover.Reports;

namespace FailoverWatch.Tests.Coordination;

/// <summary>
/// Incidents in their own etcd keys, the newest 50 kept whoever wrote them, out of the state value that every
/// state write rewrites; a state value from before still shows its incidents until the next write moves them out.
/// </summary>
public sealed class EtcdIncidentsTests(ITestOutputHelper output)
{
    private static readonly EtcdKeys Keys = EtcdKeys.For("/failoverwatch", "test");
    private static readonly FailoverPolicySettings Settings = new(
        FailureThreshold: 3, MaxLagOnFailoverBytes: 16 << 20, AutoFailover: true,
        Nodes: [new("pg1", PrimaryAddress, 5432), new("pg2", "10.0.0.2", 5432), new("pg3", "10.0.0.3", 5432)], RetryAfterFailedPromotion: TimeSpan.FromSeconds(30), PromotionTimeout: TimeSpan.FromSeconds(60));

    private readonly InMemoryEtcd _etcd = new(new FakeTimeProvider(Now));

    [Fact]
    public async Task sixty_incidents_leave_the_newest_50_in_their_own_keys_and_a_small_state_value()
    {
        using var store = await LeaderStoreAsync("fw1");
        for (var i = 0; i < 60; i++)
        {
            await store.UpdateAsync(s => Record(s, Incident(i)), CancellationToken.None);
        }

        var stored = await _etcd.GetPrefixAsync(Keys.Incidents, CancellationToken.None);
        Assert.Equal([.. Enumerable.Range(10, 50).Select(i => Keys.Incident(Incident(i).Id))], stored.Select(kv => kv.Key.ToStringUtf8()));
        var state = _etcd.Get(Keys.State)!;
        Assert.Empty(EtcdStateStore.Parse(state.Value.Span).Incidents);
        Assert.Equal([.. Enumerable.Range(10, 50).Select(i => Incident(i).Id)], (await store.IncidentsAsync(CancellationToken.None)).Select(i => i.Id));
        Assert.Equal(50, store.Current.Incidents.Count);

        // The figure the change is for: the state value with its incidents inside, as before, and without.
        var before = EtcdStateStore.Serialize(store.Current).Length;
        output.WriteLine($"state value with 50 incidents inside: {before} bytes; without: {state.Value.Length} bytes; one incident key: {stored[0].Value.Length} bytes");
        Assert.True(state.Value.Length < 1024, $"state value {state.Value.Length} bytes");
    }

    [Fact]
    public async Task a_state_write_rewrites_no_incident_and_a_changed_incident_only_its_own_key()
    {
        using var store = await LeaderStoreAsync("fw1");
        await store.UpdateAsync(s => Record(Record(s, Incident(1)), Incident(2)), CancellationToken.None);
        var first = _etcd.Get(Keys.Incident(Incident(1).Id))!.ModRevision;

        await store.UpdateAsync(s => s with { Primary = "pg2" }, CancellationToken.None);
        Assert.Equal(first, _etcd.Get(Keys.Incident(Incident(1).Id))!.ModRevision);

        var closed = Incident(2) with { Result = FailoverResults.Promoted };
        await store.UpdateAsync(s => Record(s, closed), CancellationToken.None);
        Assert.Equal(first, _etcd.Get(Keys.Incident(Incident(1).Id))!.ModRevision);
        Assert.Equal(FailoverResults.Promoted, (await store.IncidentsAsync(CancellationToken.None)).Single(i => i.Id == closed.Id).Result);
    }

    [Fact]
    public async Task a_new_leader_adds_to_the_incidents_its_predecessor_wrote_and_keeps_the_cap()
    {
        using (var old = await LeaderStoreAsync("fw1"))
        {
            for (var i = 0; i < 50; i++)
            {
                await old.UpdateAsync(s => Record(s, Incident(i)), CancellationToken.None);
            }
        }

        await Txn(EtcdGateway.Delete(Keys.Leader));
        using var store = await LeaderStoreAsync("fw2");
        store.Refresh(_etcd.Get(Keys.State));
        await store.UpdateAsync(s => Record(s, Incident(50)), CancellationToken.None);

        var ids = (await store.IncidentsAsync(CancellationToken.None)).Select(i => i.Id).ToList();
        Assert.Equal([.. Enumerable.Range(1, 50).Select(i => Incident(i).Id)], ids);
        Assert.Equal(50, (await _etcd.GetPrefixAsync(Keys.Incidents, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task a_state_value_from_before_shows_its_incidents_and_the_next_write_moves_them_out()
    {
        var old = new FailoverState { Primary = "pg1", Incidents = [Incident(1), Incident(2)] };
        await Txn(EtcdGateway.Put(Keys.State, EtcdStateStore.Serialize(old)));
        using var store = await LeaderStoreAsync("fw1");
        store.Refresh(_etcd.Get(Keys.State));

        Assert.Equal([Incident(1).Id, Incident(2).Id], (await store.IncidentsAsync(CancellationToken.None)).Select(i => i.Id));
        Assert.Equal(2, store.Current.Incidents.Count);

        await store.UpdateAsync(s => s with { Paused = true }, CancellationToken.None);

        Assert.Empty(EtcdStateStore.Parse(_etcd.Get(Keys.State)!.Value.Span).Incidents);
        Assert.Equal(2, (await _etcd.GetPrefixAsync(Keys.Incidents, CancellationToken.None)).Count);
        Assert.Equal([Incident(1).Id, Incident(2).Id], (await store.IncidentsAsync(CancellationToken.None)).Select(i => i.Id));
    }

    [Fact]
    public async Task a_deposed_leader_writes_no_incident()
    {
        using var store = await LeaderStoreAsync("fw1");
        await Txn(EtcdGateway.Delete(Keys.Leader));

        await Assert.ThrowsAsync<EtcdStateWriteException>(() => store.UpdateAsync(s => Record(s, Incident(1)), CancellationToken.None));

        Assert.Empty(await _etcd.GetPrefixAsync(Keys.Incidents, CancellationToken.None));
    }

    [Fact]
    public async Task the_group_read_leaves_the_incidents_out()
    {
        using var store = await LeaderStoreAsync("fw1");
        await store.UpdateAsync(s => Record(s, Incident(1)), CancellationToken.None);

        var (group, _) = await _etcd.GetPrefixExceptAsync(Keys.Root, Keys.Incidents, CancellationToken.None);

        Assert.Equal([Keys.Leader, Keys.State], group.Select(kv => kv.Key.ToStringUtf8()));
    }

    /// <summary>As <see cref="IncidentRecorder"/> saves one: replaced by id, or added, the last 50 kept.</summary>
    private static FailoverState Record(FailoverState state, Incident incident) => state with
    {
        Incidents = [.. (state.Incidents.Any(i => i.Id == incident.Id) ? state.Incidents.Select(i => i.Id == incident.Id ? incident : i) : [.. state.Incidents, incident]).TakeLast(FailoverWatch.State.Incident.Kept)],
    };

    /// <summary>A failover as the recorder keeps one with default settings: five rounds of three nodes.</summary>
    private static Incident Incident(int n)
    {
        var decided = Now.AddMinutes(n);
        var rounds = Enumerable.Range(1, 5).Select(round =>
        {
            var at = decided.AddSeconds(round - 5);
            var view = View("pg1", 5000, Down("pg1") with { ProbedAt = at }, Standby("pg2", received: 4000) with { ProbedAt = at }, Standby("pg3", received: 3900) with { ProbedAt = at });
            var health = new PrimaryHealth(Math.Max(0, round - 2), Now, null);
            var decision = FailoverPolicy.Decide(view, new FailoverState { Primary = "pg1" }, health, Settings, at);
            return new IncidentRound(at, [.. view.Nodes.Select(r => r.Report)], view.PrimaryLsn?.ToString(), "pg1", false, null, health, decision.GetType().Name, decision.Reason);
        }).ToList();
        return new Incident
        {
            Id = $"{decided:yyyyMMdd'T'HHmmss.fff'Z'}-failover", Kind = IncidentKinds.Failover, Decision = rounds[^1].Decision, Reason = rounds[^1].Reason,
            From = "pg1", To = "pg2", Rounds = rounds, Settings = Settings,
            Phases = [new(IncidentPhases.Detected, decided.AddSeconds(-2), true, null), new(IncidentPhases.Decided, decided, true, null)],
        };
    }

    private async Task<EtcdStateStore> LeaderStoreAsync(string name)
    {
        var fence = new LeaderFence();
        var elected = await Txn(EtcdGateway.Put(Keys.Leader, System.Text.Encoding.UTF8.GetBytes(name)));
        fence.Hold(elected.Header.Revision);
        return new EtcdStateStore(_etcd, Keys, fence, new FakeLogger<EtcdStateStore>());
    }

    private Task<TxnResponse> Txn(RequestOp op)
    {
        var txn = new TxnRequest();
        txn.Success.Add(op);
        return _etcd.TxnAsync(txn, CancellationToken.None);
    }
}
