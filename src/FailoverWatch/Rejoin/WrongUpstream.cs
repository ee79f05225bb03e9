namespace FailoverWatch.Rejoin;

/// <summary>
/// Which healthy standbys stream, but not from the current primary. Judged by application_name in the walsenders'
/// own view (<c>pg_stat_replication</c>) of the primary and of every other node, never by the standby's
/// <c>pg_stat_wal_receiver.sender_host</c>, which behind a relay or a proxy names the relay. A standby counts only
/// with positive evidence: absent from the primary's walsenders <em>and</em> present in another node's. One found
/// nowhere (an application_name that is not its node name, which doctor names) is left alone.
/// </summary>
internal static class WrongUpstream
{
    /// <param name="streaming">The standbys FailoverWatch manages (a rejoin_command) that are reachable and say they stream.</param>
    /// <param name="fromPrimary">The application_names streaming from the primary.</param>
    /// <param name="fromOthers">Per other reachable node, the application_names streaming from it.</param>
    /// <returns>Each standby to point at the primary, with the node it streams from now.</returns>
    public static IReadOnlyList<(string Standby, string Upstream)> Find(
        IEnumerable<string> streaming, IReadOnlyCollection<string> fromPrimary, IReadOnlyDictionary<string, IReadOnlyCollection<string>> fromOthers) =>
    [
        .. from standby in streaming
           where !fromPrimary.Contains(standby, StringComparer.OrdinalIgnoreCase)
           let upstream = fromOthers.FirstOrDefault(o => o.Key != standby && o.Value.Contains(standby, StringComparer.OrdinalIgnoreCase)).Key
           where upstream is not null
           select (standby, upstream),
    ];
}
