using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;
using Npgsql;

namespace FailoverWatch.Soak;

/// <summary>What the client, the observer and the write analysis need of a round's cluster: one monitor or three.</summary>
internal interface ISoakCluster
{
    IReadOnlyList<LocalPostgresServer> Nodes { get; }

    /// <summary>pg1, the primary the round starts with.</summary>
    LocalPostgresServer Primary { get; }

    /// <summary>The monitor whose <c>/healthz</c> the observer polls; null when the round watches its monitors itself.</summary>
    MonitorProcess? Monitor { get; }

    /// <summary>The multi-host connection string of an application: whichever node is writable.</summary>
    string ClientConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = string.Join(',', Nodes.Select(n => $"127.0.0.1:{n.Port}")),
        Username = LocalPostgresServer.Superuser,
        Database = "postgres",
        TargetSessionAttributes = "read-write",
        Pooling = false,
        Timeout = 2,
        CommandTimeout = 2,
        CancellationTimeout = 500,

        // Npgsql remembers a host's role for 10 s by default: the client would find the promoted node that much later.
        HostRecheckSeconds = 0,
        ApplicationName = "soak-client",
    }.ConnectionString;
}
