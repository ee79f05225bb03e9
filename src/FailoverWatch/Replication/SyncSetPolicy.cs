using System.Collections.Immutable;
using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;
using FailoverWatch.State;

namespace FailoverWatch.Replication;

/// <summary>One standby as the primary's <c>pg_stat_replication</c> shows it (matched by application_name).</summary>
internal sealed record SyncStandbyRow(string Name, bool Streaming, string? SyncState, Lsn? FlushLsn)
{
    /// <summary>The primary waits for this standby's confirmation before it acknowledges a commit.</summary>
    public bool Confirms => Streaming && SyncState is "sync" or "quorum";

    public bool HasFlushed(Lsn target) => FlushLsn is { } flushed && flushed >= target;
}

/// <summary>What one round read on the primary, in one query: its setting, its WAL position, its standbys and the commits waiting on them.</summary>
/// <param name="Waiters">Per backend waiting on <c>SyncRep</c>: a key (pid and start of its statement), so one long wait is told from many short ones, and how long ago its statement started.</param>
internal sealed record PrimaryReplication(string Setting, Lsn CurrentLsn, IReadOnlyList<SyncStandbyRow> Standbys, IReadOnlyList<SyncWaiter> Waiters)
{
    public SyncStandbyRow? Find(string name) => Standbys.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A backend waiting on <c>SyncRep</c>; <paramref name="Running"/> is how long its statement has run (the server's clock).</summary>
internal sealed record SyncWaiter(string Key, TimeSpan Running);

/// <summary>
/// What the monitor remembers between rounds, never stored: the WAL position each standby must flush before it is named
/// (<see cref="NameAfter"/>) or recorded (<see cref="RecordAfter"/>), and since when each waiting commit has been seen.
/// A monitor restart forgets it, which only delays the next step.
/// </summary>
internal sealed record SyncProgress(
    ImmutableDictionary<string, Lsn> NameAfter,
    ImmutableDictionary<string, Lsn> RecordAfter,
    ImmutableDictionary<string, DateTimeOffset> WaitersSince,
    DateTimeOffset? LastRoundAt = null)
{
    public static SyncProgress Start { get; } = new(
        ImmutableDictionary<string, Lsn>.Empty,
        ImmutableDictionary<string, Lsn>.Empty,
        ImmutableDictionary<string, DateTimeOffset>.Empty);
}

/// <summary>The one change a round makes (at most one, so every step is seen by the next round before the one after it).</summary>
internal abstract record SyncStep(string Reason);

internal sealed record SyncNothing(string Reason) : SyncStep(Reason);

/// <summary><c>ALTER SYSTEM SET synchronous_standby_names</c> to exactly these, and a reload.</summary>
internal sealed record SyncName(IReadOnlyList<string> Standbys, string Reason) : SyncStep(Reason)
{
    public string Setting => SyncStandbyNames.Format(Standbys);
}

/// <summary>State write: these standbys hold every acknowledged commit from now on.</summary>
internal sealed record SyncRecord(IReadOnlyList<string> Standbys, string Reason) : SyncStep(Reason);

/// <summary>State write, before the primary stops naming them: these are no longer known to hold every commit.</summary>
internal sealed record SyncUnrecord(IReadOnlyList<string> Standbys, bool Degrade, string Reason) : SyncStep(Reason);

/// <summary>The next step and what to remember for the rounds after it.</summary>
internal sealed record SyncRound(SyncStep Step, SyncProgress Progress);

/// <param name="Others">The configured nodes other than the primary, in config order (strict names them when none streams).</param>
internal sealed record SyncSettings(string Mode, int Number, TimeSpan DegradeAfter, IReadOnlyList<string> Others);

/// <summary>
/// Keeps the primary's named synchronous standbys and the recorded set in the only order that loses no acknowledged commit
/// (the order Patroni's issue 2819 got wrong):
/// <list type="bullet">
/// <item>a standby is named first, and recorded only once the primary shows it <c>sync</c> and it has flushed a WAL position read
/// after that (so after the reload took effect: every commit acknowledged before then is on it, and every one after waited for it);</item>
/// <item>it is un-recorded before the primary stops naming it: a state write that fails stops there, and commits keep waiting;</item>
/// <item>in <c>sync</c>, once a commit has waited <c>degrade_after</c> the silent standbys are dropped (un-recorded, then un-named);
/// they are named again once they have flushed the WAL position read when they were dropped.</item>
/// </list>
/// Pure: the round's reading, the stored and remembered state, and the time in; one step out.
/// </summary>
internal static class SyncSetPolicy
{
    public static SyncRound Decide(SyncSettings settings, PrimaryReplication primary, SyncReplicationState state, SyncProgress progress, DateTimeOffset now)
    {
        progress = TrackWaiters(progress, primary.Waiters, now);
        var named = SyncStandbyNames.Parse(primary.Setting);
        var recorded = state.Standbys;
        if (settings.Mode == ReplicationModes.Async)
        {
            return Async(primary, recorded, named, progress);
        }

        if (settings.Mode == ReplicationModes.Sync && named is { Count: > 0 } && OldestWait(progress) is { } since && now - since >= settings.DegradeAfter)
        {
            return Degrade(settings, primary, recorded, named, progress, now - since);
        }

        var (wanted, next) = Wanted(settings, primary, recorded, named, progress);
        if (named is null || !SameSet(wanted, named))
        {
            return Rename(primary, recorded, named, wanted, next);
        }

        return Record(primary, recorded, named, next);
    }

    /// <summary>
    /// Each waiting commit is timed from when it began to wait, as near as can be told: not before its statement started,
    /// nor before the last round that did not see it (a long statement's commit waits only from its end). A healthy
    /// standby's commits wait milliseconds, and are never seen in two rounds.
    /// </summary>
    private static SyncProgress TrackWaiters(SyncProgress progress, IReadOnlyList<SyncWaiter> waiters, DateTimeOffset now)
    {
        var since = ImmutableDictionary.CreateBuilder<string, DateTimeOffset>();
        foreach (var waiter in waiters)
        {
            var started = now - waiter.Running;
            since[waiter.Key] = progress.WaitersSince.TryGetValue(waiter.Key, out var seen)
                ? seen
                : progress.LastRoundAt is { } last && last > started ? last : started;
        }

        return progress with { WaitersSince = since.ToImmutable(), LastRoundAt = now };
    }

    private static DateTimeOffset? OldestWait(SyncProgress progress) =>
        progress.WaitersSince.IsEmpty ? null : progress.WaitersSince.Values.Min();

    /// <summary>Not FailoverWatch's to keep: only un-record (so a failover is not held to them) and clear a value FailoverWatch wrote.</summary>
    private static SyncRound Async(PrimaryReplication primary, IReadOnlyList<string> recorded, IReadOnlyList<string>? named, SyncProgress progress)
    {
        if (recorded.Count > 0)
        {
            return new(new SyncUnrecord(recorded, Degrade: false, "replication.mode is async: no standby is recorded as synchronous"), progress);
        }

        return named is { Count: > 0 } && primary.Setting.Length > 0
            ? new(new SyncName([], "replication.mode is async: clearing the synchronous_standby_names FailoverWatch set"), progress)
            : new(new SyncNothing("replication.mode is async"), progress);
    }

    /// <summary>Drops the named standbys that have not flushed everything: first from the record, then from the primary's setting.</summary>
    private static SyncRound Degrade(SyncSettings settings, PrimaryReplication primary, IReadOnlyList<string> recorded, IReadOnlyList<string> named, SyncProgress progress, TimeSpan waited)
    {
        var silent = named.Where(n => primary.Find(n)?.HasFlushed(primary.CurrentLsn) != true).ToList();
        if (silent.Count == 0)
        {
            silent = [.. named];
        }

        var why = $"a commit has waited {waited.TotalSeconds:0.#}s on {string.Join(", ", silent)} (replication.degrade_after {settings.DegradeAfter.TotalSeconds:0.#}s)";
        var unrecord = recorded.Where(silent.Contains).ToList();
        if (unrecord.Count > 0)
        {
            return new(new SyncUnrecord(unrecord, Degrade: true, $"{why}: no longer recording it as synchronous"), progress);
        }

        // Named again only once it has flushed what the primary had written by now: proof that it receives again.
        var nameAfter = progress.NameAfter.SetItems(silent.Select(s => KeyValuePair.Create(s, primary.CurrentLsn)));
        return new(
            new SyncName([.. named.Except(silent)], $"{why}: no longer naming it, commits go on without it"),
            progress with { NameAfter = nameAfter, RecordAfter = ImmutableDictionary<string, Lsn>.Empty });
    }

    /// <summary>
    /// The standbys the primary should name: the recorded ones (they leave only through <see cref="SyncUnrecord"/>), those
    /// named, then streaming standbys (in sync, only once caught up), then in strict the other configured nodes.
    /// </summary>
    private static (List<string> Wanted, SyncProgress Progress) Wanted(SyncSettings settings, PrimaryReplication primary, IReadOnlyList<string> recorded, IReadOnlyList<string>? named, SyncProgress progress)
    {
        var nameAfter = progress.NameAfter;
        var wanted = new List<string>();
        void Add(string node)
        {
            if (wanted.Count < settings.Number && settings.Others.Contains(node) && !wanted.Contains(node))
            {
                wanted.Add(node);
            }
        }

        foreach (var node in recorded.Concat(named ?? []))
        {
            Add(node);
        }

        foreach (var row in primary.Standbys.Where(r => r.Streaming).OrderBy(r => IndexOf(settings.Others, r.Name)))
        {
            var node = settings.Others.FirstOrDefault(o => string.Equals(o, row.Name, StringComparison.OrdinalIgnoreCase));
            if (node is null || wanted.Contains(node) || wanted.Count >= settings.Number)
            {
                continue;
            }

            if (settings.Mode == ReplicationModes.Strict)
            {
                Add(node);
            }
            else if (!nameAfter.TryGetValue(node, out var target))
            {
                // Named once it has flushed what the primary holds now, so naming it makes no commit wait long.
                nameAfter = nameAfter.SetItem(node, primary.CurrentLsn);
            }
            else if (row.HasFlushed(target))
            {
                Add(node);
            }
        }

        if (settings.Mode == ReplicationModes.Strict)
        {
            foreach (var node in settings.Others)
            {
                Add(node);
            }
        }

        return (wanted, progress with { NameAfter = nameAfter });
    }

    private static SyncRound Rename(PrimaryReplication primary, IReadOnlyList<string> recorded, IReadOnlyList<string>? named, List<string> wanted, SyncProgress progress)
    {
        var unrecord = recorded.Where(r => !wanted.Contains(r)).ToList();
        if (unrecord.Count > 0)
        {
            return new(new SyncUnrecord(unrecord, Degrade: false, $"{string.Join(", ", unrecord)} will no longer be named: no longer recording it as synchronous"), progress);
        }

        if (wanted.Count == 0 && named is { Count: 0 })
        {
            return new(new SyncNothing("no standby streams and has caught up yet: none named"), progress);
        }

        var why = wanted.Count == 0
            ? $"synchronous_standby_names '{primary.Setting}' names no streaming standby: clearing it"
            : $"naming {string.Join(", ", wanted)} in synchronous_standby_names (was '{primary.Setting}')";
        return new(
            new SyncName(wanted, why),
            progress with { NameAfter = progress.NameAfter.RemoveRange(wanted), RecordAfter = ImmutableDictionary<string, Lsn>.Empty });
    }

    /// <summary>
    /// Records a named standby once the primary shows it synchronous and it has flushed a position read in a round that
    /// already showed it so: every commit acknowledged before that position is on it, and every later one waited for it.
    /// </summary>
    private static SyncRound Record(PrimaryReplication primary, IReadOnlyList<string> recorded, IReadOnlyList<string> named, SyncProgress progress)
    {
        var recordAfter = progress.RecordAfter;
        var ready = new List<string>();
        foreach (var node in named.Where(n => !recorded.Contains(n)))
        {
            var row = primary.Find(node);
            if (row is not { Confirms: true })
            {
                recordAfter = recordAfter.Remove(node);
            }
            else if (!recordAfter.TryGetValue(node, out var target))
            {
                recordAfter = recordAfter.SetItem(node, primary.CurrentLsn);
            }
            else if (row.HasFlushed(target))
            {
                ready.Add(node);
            }
        }

        progress = progress with { RecordAfter = recordAfter.RemoveRange(ready) };
        return ready.Count > 0
            ? new(new SyncRecord(ready, $"{string.Join(", ", ready)} confirms every commit: recording it as synchronous"), progress)
            : new(new SyncNothing(recorded.Count == named.Count ? $"{string.Join(", ", named)} named and recorded" : $"{string.Join(", ", named)} named; waiting for it to confirm before recording it"), progress);
    }

    private static bool SameSet(IReadOnlyList<string> a, IReadOnlyList<string> b) =>
        a.Count == b.Count && a.All(x => b.Contains(x, StringComparer.OrdinalIgnoreCase));

    private static int IndexOf(IReadOnlyList<string> nodes, string name)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            if (string.Equals(nodes[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return int.MaxValue;
    }
}
