using Microsoft.Extensions.Logging;

namespace FailoverWatch.Coordination;

/// <summary>The log lines of coordination through etcd (event ids 1600-1699).</summary>
internal static partial class CoordinationLog
{
    [LoggerMessage(1600, LogLevel.Information, "Coordinating as monitor {Monitor} through etcd at {Endpoints} (keys under {Prefix}, lease {LeaseTtl})")]
    public static partial void Starting(this ILogger logger, string monitor, string endpoints, string prefix, string leaseTtl);

    [LoggerMessage(1601, LogLevel.Warning, "etcd is not answering with quorum ({Error}); this monitor keeps probing and serving, but takes no decision and changes no state until it does")]
    public static partial void EtcdDown(this ILogger logger, string error);

    [LoggerMessage(1602, LogLevel.Information, "etcd answers again; monitor {Monitor} is registered")]
    public static partial void EtcdUp(this ILogger logger, string monitor);

    [LoggerMessage(1603, LogLevel.Warning, "Monitor {Monitor} is the leader now (fencing token {Token}): it alone promotes, fences, runs hooks and takes backups")]
    public static partial void BecameLeader(this ILogger logger, string monitor, long token);

    [LoggerMessage(1604, LogLevel.Warning, "Monitor {Monitor} is no longer the leader: {Reason}")]
    public static partial void LostLeadership(this ILogger logger, string monitor, string reason);

    [LoggerMessage(1605, LogLevel.Information, "The leader is {Leader}")]
    public static partial void LeaderIs(this ILogger logger, string leader);

    [LoggerMessage(1606, LogLevel.Warning, "monitor_name {Monitor} is registered in etcd by another running monitor (at {Http}, last seen {SeenAt:O}); waiting up to {Wait} in case it is this monitor's previous run")]
    public static partial void NameTakenWaiting(this ILogger logger, string monitor, string http, DateTimeOffset seenAt, string wait);

    [LoggerMessage(1607, LogLevel.Critical, "Refusing to run: monitor_name {Monitor} is already used by the running monitor at {Http} (instance {Instance}); give each monitor its own coordination.monitor_name")]
    public static partial void NameTaken(this ILogger logger, string monitor, string http, string instance);

    [LoggerMessage(1608, LogLevel.Information, "Imported the state file {Path} into etcd (it held no state yet): primary {Primary}")]
    public static partial void StateImported(this ILogger logger, string path, string? primary);

    [LoggerMessage(1609, LogLevel.Warning, "State write refused by etcd: {Reason}")]
    public static partial void StateWriteRefused(this ILogger logger, string reason);

    [LoggerMessage(1610, LogLevel.Error, "etcd refused this monitor's credentials ({Error}): check coordination.etcd.username and password_file, or cert_file and key_file")]
    public static partial void EtcdAuthFailed(this ILogger logger, string error);

    [LoggerMessage(1611, LogLevel.Information, "Forwarding {Request} to the leader {Leader} at {Http}")]
    public static partial void Forwarding(this ILogger logger, string request, string leader, string http);

    [LoggerMessage(1612, LogLevel.Information, "Skipping the scheduled {Job}: this monitor is not the leader, the leader takes it")]
    public static partial void JobLeftToLeader(this ILogger logger, string job);

    [LoggerMessage(1614, LogLevel.Warning, "etcd refused to compact its history ({Error}): under etcd auth Compact needs the root role; run etcd with --auto-compaction-retention instead, or its database grows until the backend quota stops every write")]
    public static partial void CompactionRefused(this ILogger logger, string error);

    [LoggerMessage(1613, LogLevel.Warning, "Not running {Action} on {Node}: {Reason}")]
    public static partial void ActionRefused(this ILogger logger, string action, string node, string reason);
}
