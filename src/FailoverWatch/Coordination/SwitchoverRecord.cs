using System.Text.Json;

namespace FailoverWatch.Coordination;

/// <summary>
/// A switchover under way, kept in etcd under <c>PREFIX/CLUSTER/switchover</c> with a lease of its own, so it
/// expires (<see cref="Lifetime"/>) rather than outliving what it describes. A new leader that finds one finishes it
/// when the old primary's stop has run, else drops it.
/// </summary>
internal sealed record SwitchoverRecord(string From, string To, string Phase, string Monitor, DateTimeOffset At)
{
    /// <summary>Before the stop: the old primary still runs, so a new leader drops the switchover.</summary>
    public const string CatchingUp = "catching_up";

    /// <summary>Written right before the stop_command: if the old primary no longer answers, the stop ran.</summary>
    public const string Stopping = "stopping";

    /// <summary>Longer than the catch-up, stop, replay and promotion steps together (a minute each at most), far shorter than an operator's memory.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, CoordinationJson.Default.SwitchoverRecord);

    public static SwitchoverRecord? Parse(ReadOnlySpan<byte> json) => CoordinationJson.ParseOrNull(json, CoordinationJson.Default.SwitchoverRecord);
}
