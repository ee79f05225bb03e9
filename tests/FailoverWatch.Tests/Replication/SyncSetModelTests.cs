using System.Collections.Immutable;
using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;
using FailoverWatch.Replication;
using FailoverWatch.State;

namespace FailoverWatch.Tests.Replication;

/// <summary>
/// <see cref="SyncSetPolicy"/> against a model of a primary and two standbys: commits wait on the standbys the primary's
/// processes have reloaded (which lags the value set), links freeze and thaw, the state write fails, the clock jumps past
/// degrade_after, the monitor restarts. Under every interleaving, a recorded standby holds every acknowledged commit,
/// which is what a failover to it needs.
/// </summary>
public sealed class SyncSetModelTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private enum Event { Commit, ReceivePg2, ReceivePg3, FreezePg2, ThawPg2, ReloadApplies, Round, Tick, ToggleStateWritable, RestartMonitor }

    private sealed record Model(
        SyncSettings Settings,
        ulong Lsn,
        ImmutableDictionary<string, ulong> Flush,
        bool Pg2Frozen,
        string Configured,
        string Effective,
        ImmutableList<(string Key, ulong Lsn)> Waiting,
        ulong MaxAcknowledged,
        int Commits,
        SyncReplicationState State,
        SyncProgress Progress,
        DateTimeOffset Now,
        bool StateWritable)
    {
        public static Model Fresh(SyncSettings settings) => new(
            settings, 10, ImmutableDictionary<string, ulong>.Empty.Add("pg2", 10).Add("pg3", 10), false, "", "", [], 0, 0,
            SyncReplicationState.None, SyncProgress.Start, Start, true);

        public Model Apply(Event e, Action<SyncStep>? seen = null) => e switch
        {
            Event.Commit => Commit(),
            Event.ReceivePg2 => Pg2Frozen ? this : Receive("pg2"),
            Event.ReceivePg3 => Receive("pg3"),
            Event.FreezePg2 => this with { Pg2Frozen = true },
            Event.ThawPg2 => this with { Pg2Frozen = false },
            Event.ReloadApplies => (this with { Effective = Configured }).Release(),
            Event.Round => Round(seen),
            Event.Tick => this with { Now = Now + Settings.DegradeAfter / 2 },
            Event.ToggleStateWritable => this with { StateWritable = !StateWritable },
            Event.RestartMonitor => this with { Progress = SyncProgress.Start },
            _ => throw new ArgumentOutOfRangeException(nameof(e)),
        };

        /// <summary>Every recorded standby has flushed every acknowledged commit.</summary>
        public string? Violation() =>
            State.Standbys.FirstOrDefault(s => Flush[s] < MaxAcknowledged) is { } lacking
                ? $"{lacking} is recorded but flushed {Flush[lacking]} while commit {MaxAcknowledged} was acknowledged"
                : null;

        private bool Releases(ulong lsn) => (SyncStandbyNames.Parse(Effective) ?? []).All(s => Flush[s] >= lsn);

        private Model Commit()
        {
            var next = this with { Lsn = Lsn + 10, Commits = Commits + 1 };
            return next.Releases(next.Lsn)
                ? next with { MaxAcknowledged = next.Lsn }
                : next with { Waiting = Waiting.Add(($"{Commits}@t", next.Lsn)) };
        }

        private Model Receive(string standby) => (this with { Flush = Flush.SetItem(standby, Lsn) }).Release();

        private Model Release()
        {
            var released = Waiting.Where(w => Releases(w.Lsn)).ToList();
            return released.Count == 0
                ? this
                : this with { Waiting = Waiting.RemoveRange(released), MaxAcknowledged = Math.Max(MaxAcknowledged, released.Max(w => w.Lsn)) };
        }

        /// <summary>What the executor does: read (a frozen link still looks streaming), decide, one step; a failed state write keeps the old progress.</summary>
        private Model Round(Action<SyncStep>? seen)
        {
            var effective = SyncStandbyNames.Parse(Effective) ?? [];
            var rows = Flush.OrderBy(f => f.Key).Select(f => new SyncStandbyRow(f.Key, true, effective.Contains(f.Key) ? "sync" : "async", new Lsn(f.Value))).ToList();
            var round = SyncSetPolicy.Decide(Settings, new PrimaryReplication(Configured, new Lsn(Lsn), rows, [.. Waiting.Select(w => new SyncWaiter(w.Key, TimeSpan.Zero))]), State, Progress, Now);
            seen?.Invoke(round.Step);
            return round.Step switch
            {
                SyncName name => this with { Configured = name.Setting, Progress = round.Progress },
                SyncRecord or SyncUnrecord when !StateWritable => this,
                SyncRecord record => this with { State = State with { Standbys = [.. State.Standbys.Union(record.Standbys)] }, Progress = round.Progress },
                SyncUnrecord unrecord => this with { State = State with { Standbys = [.. State.Standbys.Except(unrecord.Standbys)] }, Progress = round.Progress },
                _ => this with { Progress = round.Progress },
            };
        }
    }

    private static readonly Event[] Events = Enum.GetValues<Event>();

    /// <summary>Rounds and replication until a standby is recorded, with commits flowing.</summary>
    private static Model Recording(SyncSettings settings)
    {
        var model = Model.Fresh(settings);
        for (var i = 0; i < 6 && model.State.Standbys.Count == 0; i++)
        {
            model = model.Apply(Event.Commit).Apply(Event.ReceivePg2).Apply(Event.ReceivePg3).Apply(Event.Round).Apply(Event.ReloadApplies);
        }

        Assert.NotEmpty(model.State.Standbys);
        return model;
    }

    public static TheoryData<string> Modes => [ReplicationModes.Sync, ReplicationModes.Strict];

    [Theory]
    [MemberData(nameof(Modes))]
    public void every_interleaving_of_six_events_keeps_every_acknowledged_commit_on_the_recorded_standbys(string mode)
    {
        var settings = new SyncSettings(mode, 1, TimeSpan.FromSeconds(5), ["pg2", "pg3"]);
        var explored = 0;
        void Explore(Model model, int depth, List<Event> path)
        {
            explored++;
            if (model.Violation() is { } violation)
            {
                Assert.Fail($"{violation} after {string.Join(", ", path)}");
            }

            if (depth == 0)
            {
                return;
            }

            foreach (var e in Events)
            {
                path.Add(e);
                Explore(model.Apply(e), depth - 1, path);
                path.RemoveAt(path.Count - 1);
            }
        }

        Explore(Model.Fresh(settings), 6, []);
        Explore(Recording(settings), 6, []);
        Assert.True(explored > 2_000_000);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void long_random_runs_record_degrade_and_rename_without_a_recorded_standby_ever_lacking_a_commit(string mode)
    {
        var settings = new SyncSettings(mode, 1, TimeSpan.FromSeconds(5), ["pg2", "pg3"]);
        var steps = new Dictionary<string, int>();
        for (var seed = 0; seed < 400; seed++)
        {
            var random = new Random(seed);
            var model = Model.Fresh(settings);
            var path = new List<Event>();
            for (var i = 0; i < 200; i++)
            {
                // Rounds, receipts and reloads are common, faults rare, as on a real pair.
                var e = random.Next(10) < 6 ? Events[random.Next(4)] switch { Event.Commit => Event.Commit, Event.ReceivePg2 => Event.ReceivePg2, Event.ReceivePg3 => Event.Round, _ => Event.ReloadApplies } : Events[random.Next(Events.Length)];
                path.Add(e);
                model = model.Apply(e, step =>
                {
                    var kind = step is SyncUnrecord { Degrade: true } ? "degrade" : step.GetType().Name;
                    steps[kind] = steps.GetValueOrDefault(kind) + 1;
                });
                if (model.Violation() is { } violation)
                {
                    Assert.Fail($"seed {seed}: {violation} after {string.Join(", ", path)}");
                }
            }
        }

        // Not vacuous: the runs really recorded, named and (in sync) degraded.
        Assert.True(steps.GetValueOrDefault(nameof(SyncRecord)) > 100, string.Join(", ", steps));
        Assert.True(steps.GetValueOrDefault(nameof(SyncName)) > 100, string.Join(", ", steps));
        if (mode == ReplicationModes.Sync)
        {
            Assert.True(steps.GetValueOrDefault("degrade") > 20, string.Join(", ", steps));
        }
        else
        {
            Assert.Equal(0, steps.GetValueOrDefault("degrade"));
        }
    }
}
