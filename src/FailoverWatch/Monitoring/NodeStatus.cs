namespace FailoverWatch.Monitoring;

/// <summary>A node's report with what the view derives for it from the primary's position.</summary>
internal sealed record NodeStatus(NodeReport Report, long? LagBytes, long? ReceiveLagBytes, double? LagSeconds)
{
    public string Name => Report.Node;

    public bool IsReachableStandby => Report.Reachable && Report.Role == NodeRole.Standby;

    public bool IsReachablePrimary => Report.Reachable && Report.Role == NodeRole.Primary;

    public bool IsStreaming => IsReachableStandby && Report.WalReceiver?.IsStreaming == true;
}
