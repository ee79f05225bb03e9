using System.Text.Json;
using Etcdserverpb;
using FailoverWatch.State;
using Mvccpb;

namespace FailoverWatch.Coordination;

/// <summary>
/// Incidents in etcd, one key each under <c>PREFIX/CLUSTER/incidents/</c>, the newest <see cref="Incident.Kept"/>
/// kept. Inside the state value, 50 incidents with their rounds made every state write (at least every few seconds)
/// rewrite hundreds of kilobytes, towards etcd's request limit (1.5 MiB) and its backend quota. A state value written
/// before this still holds its incidents: they are read from there too, and the next write moves them out.
/// </summary>
internal static class EtcdIncidents
{
    public static byte[] Serialize(Incident incident) => JsonSerializer.SerializeToUtf8Bytes(incident, FailoverStateJsonContext.Default.Incident);

    /// <summary>Those under their keys and those still in an old state value, one per id, oldest first (ids begin with their time).</summary>
    public static IReadOnlyList<Incident> Merge(IEnumerable<Incident> stored, IReadOnlyList<Incident> inState) =>
        [.. stored.Concat(inState)
            .DistinctBy(i => i.Id)
            .OrderBy(i => i.Id, StringComparer.Ordinal)
            .TakeLast(Incident.Kept)];

    public static IEnumerable<Incident> Parse(IEnumerable<KeyValue> stored) =>
        stored.Select(kv => JsonSerializer.Deserialize(kv.Value.Span, FailoverStateJsonContext.Default.Incident)).OfType<Incident>();

    /// <summary>What <c>GET /incidents</c> and <c>failoverwatch incidents</c> show with coordination: etcd's, whoever leads.</summary>
    public static async Task<IReadOnlyList<Incident>> ReadAsync(IEtcdGateway etcd, EtcdKeys keys, CancellationToken cancellationToken)
    {
        var stored = await etcd.GetPrefixAsync(keys.Incidents, cancellationToken);
        var state = await etcd.GetAsync(keys.State, cancellationToken);
        return Merge(Parse(stored), state is null ? [] : EtcdStateStore.Parse(state.Value.Span).Incidents);
    }

    /// <summary>The puts of new or changed incidents and the deletes of those dropped, taking etcd from <paramref name="written"/> to <paramref name="wanted"/>.</summary>
    public static IEnumerable<RequestOp> Changes(IReadOnlyDictionary<string, Incident> written, IReadOnlyList<Incident> wanted, EtcdKeys keys)
    {
        var kept = wanted.TakeLast(Incident.Kept).ToList();
        foreach (var incident in kept.Where(i => !written.TryGetValue(i.Id, out var was) || !Equals(was, i)))
        {
            yield return EtcdGateway.Put(keys.Incident(incident.Id), Serialize(incident));
        }

        foreach (var id in written.Keys.Except(kept.Select(i => i.Id)))
        {
            yield return EtcdGateway.Delete(keys.Incident(id));
        }
    }
}
