namespace FailoverWatch.Soak;

/// <summary>
/// One three-monitor round's outcome. <see cref="LeaderGapSeconds"/>: the longest stretch without a leader, from
/// the fault (a monitor's) or from etcd's return (etcd's), against <see cref="LeaderBoundSeconds"/>.
/// <see cref="PublishSeconds"/>: from the fault's end until every monitor's view was written in etcd again; null
/// when one was not within 10 s. <see cref="Promotions"/>: PostgreSQL's "received promote request" lines.
/// </summary>
internal sealed record CoordinatedResult(
    int Number,
    CoordinationFault Coordination,
    DatabaseFault Database,
    int NodeCount,
    WriteAnalysis Writes,
    IReadOnlyList<string> Violations,
    string Notes,
    double? SettleSeconds,
    double LeaderGapSeconds,
    double LeaderBoundSeconds,
    double? PublishSeconds,
    int Promotions,
    string Actors,
    int Acks,
    TimeSpan Duration) : ISoakResult
{
    public string Label => $"{Coordination.Name()} + {Database.Name()}";

    public string? Evidence { get; init; }
}
