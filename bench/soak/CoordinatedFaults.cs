namespace FailoverWatch.Soak;

/// <summary>The coordination fault of a three-monitor round (<see cref="CoordinatedRound"/>).</summary>
internal enum CoordinationFault
{
    /// <summary>kill -9 of the leader monitor, started again after lease_ttl and 1-4 s.</summary>
    LeaderKill,

    /// <summary>SIGSTOP of the leader monitor for lease_ttl and 1-5 s, then SIGCONT: it resumes believing it leads.</summary>
    LeaderStop,

    /// <summary>SIGSTOP of etcd's raft leader for 3-10 s, then SIGCONT (the lease trouble of etcd PR 16822 and issue 9395).</summary>
    EtcdLeaderStop,

    /// <summary>SIGSTOP of two of the three etcd members for 4-12 s: no quorum.</summary>
    EtcdNoQuorum,

    /// <summary>Both follower monitors cut from the primary (their relays) for 5-15 s; the leader still reaches it.</summary>
    FollowersCut,

    /// <summary>One follower monitor cut from everything (every node and every etcd member) for 5-15 s.</summary>
    FollowerCut,
}

/// <summary>The database fault of a three-monitor round, 0-2 s after the coordination fault began.</summary>
internal enum DatabaseFault
{
    /// <summary>kill -9 of every server process of the primary.</summary>
    Kill9,

    /// <summary>SIGSTOP of the primary for 2-15 s, then SIGCONT.</summary>
    Stop,

    /// <summary>No database fault.</summary>
    None,
}

internal static class CoordinatedFaultNames
{
    public static string Name(this CoordinationFault fault) => fault switch
    {
        CoordinationFault.LeaderKill => "leader monitor kill -9",
        CoordinationFault.LeaderStop => "leader monitor SIGSTOP > lease",
        CoordinationFault.EtcdLeaderStop => "etcd raft leader SIGSTOP",
        CoordinationFault.EtcdNoQuorum => "etcd without quorum",
        CoordinationFault.FollowersCut => "both followers cut from primary",
        CoordinationFault.FollowerCut => "one follower cut off",
        _ => fault.ToString(),
    };

    public static string Name(this DatabaseFault fault) => fault switch
    {
        DatabaseFault.Kill9 => "kill -9 primary",
        DatabaseFault.Stop => "SIGSTOP primary 2-15s",
        DatabaseFault.None => "none",
        _ => fault.ToString(),
    };

    /// <summary>Whether the fault is etcd's: the leader bound is then 2 x lease_ttl + 2 s from etcd's return, else lease_ttl + 2 s from the fault.</summary>
    public static bool IsEtcdFault(this CoordinationFault fault) => fault is CoordinationFault.EtcdLeaderStop or CoordinationFault.EtcdNoQuorum;
}
