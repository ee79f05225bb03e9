namespace FailoverWatch.Readiness;

/// <summary>Each node other than the primary must be a reachable standby, streaming, within max_lag_on_failover. From the round alone.</summary>
internal sealed class StandbyStateCheck : IReadinessCheck
{
    public Task<IReadOnlyList<ReadinessProblem>> CheckAsync(ReadinessContext context, CancellationToken cancellationToken)
    {
        var limit = context.Options.Monitor.MaxLagOnFailover;
        var problems = new List<ReadinessProblem>();
        foreach (var node in context.View.Nodes.Where(n => n.Name != context.Primary))
        {
            var problem = node switch
            {
                { Report.Failure: { } failure } => $"unreachable ({failure})",
                { IsReachablePrimary: true } => "writable but not the primary (a returning old primary, or split brain)",
                { IsReachableStandby: false } => $"role {node.Report.Role.ToString().ToLowerInvariant()}, not a standby",
                { IsStreaming: false } => $"standby is not streaming (WAL receiver: {node.Report.WalReceiver?.Status ?? "none"})",
                { ReceiveLagBytes: { } lag } when lag > limit.Bytes => $"received WAL {lag} bytes behind the primary, above max_lag_on_failover {limit}",
                _ => null,
            };
            if (problem is not null)
            {
                problems.Add(new ReadinessProblem(node.Name, problem));
            }
        }

        return Task.FromResult<IReadOnlyList<ReadinessProblem>>(problems);
    }
}
