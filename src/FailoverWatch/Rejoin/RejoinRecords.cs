using FailoverWatch.State;

namespace FailoverWatch.Rejoin;

/// <summary>What <c>failoverwatch rejoin</c> was asked to do.</summary>
/// <param name="DataDirectory">The node's PGDATA.</param>
/// <param name="Source">The new primary, as a libpq connection string.</param>
/// <param name="Node">The node's name: <c>application_name</c> in its <c>primary_conninfo</c>.</param>
/// <param name="PrimaryConninfo">How the node streams, when not as <paramref name="Source"/>.</param>
/// <param name="ConfigFile">The main configuration file when it is kept outside PGDATA (Debian).</param>
/// <param name="SalvageDirectory">Where WAL past the fork is saved.</param>
/// <param name="StartCommand">Starts the server through the service manager the fence stops; default <c>pg_ctl start</c>.</param>
/// <param name="StopCommand">Stops it likewise; default <c>pg_ctl stop -m fast</c>.</param>
/// <param name="StreamTimeout">How long to wait, once started, for the node to stream.</param>
/// <param name="AllowReclone">A person's choice, never the host's: replace a directory pg_rewind cannot fix with a fresh base backup.</param>
internal sealed record RejoinRequest(
    string DataDirectory,
    Conninfo Source,
    string Node,
    Conninfo? PrimaryConninfo,
    string? ConfigFile,
    string SalvageDirectory,
    string? StartCommand,
    string? StopCommand,
    TimeSpan StreamTimeout,
    bool AllowReclone = false);


/// <summary>The JSON line <c>rejoin</c> prints last; the host records it in the incident as <c>rejoin</c> and <c>salvage</c>.</summary>
/// <param name="MovedAside">Where <c>--allow-reclone</c> moved the old data directory, when it did.</param>
internal sealed record RejoinOutcome(string Node, bool Rewound, double TookSeconds, SalvageRecord? Salvage, string? MovedAside = null);

/// <summary>A rejoin that stopped: the message is one sentence saying what happened and what to do.</summary>
internal sealed class RejoinRefusedException(string message) : Exception(message);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(RejoinOutcome))]
[System.Text.Json.Serialization.JsonSerializable(typeof(SalvageRecord))]
internal sealed partial class RejoinJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
