using FailoverWatch.Configuration;
using FailoverWatch.Logging;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Monitoring;

/// <summary>Logs a line when a node changes state (up/down, role, streaming, lag limit), never one per probe.</summary>
internal sealed class NodeChangeLogger(FailoverWatchOptions options, ILogger<NodeChangeLogger> logger)
{
    private readonly Dictionary<string, NodeStatus> _previous = new(StringComparer.Ordinal);
    private readonly long _lagLimit = options.Monitor.MaxLagOnFailover.Bytes;

    public void Observe(ClusterView view)
    {
        foreach (var node in view.Nodes)
        {
            _previous.TryGetValue(node.Name, out var before);
            LogReachability(before, node);
            if (node.Report.Reachable)
            {
                LogRole(before, node);
                LogStreaming(before, node);
                LogLag(before, node);
            }

            _previous[node.Name] = node;
        }
    }

    private void LogReachability(NodeStatus? before, NodeStatus now)
    {
        if (now.Report.Failure is { } failure && (before is null || before.Report.Reachable || before.Report.Failure?.Kind != failure.Kind))
        {
            logger.NodeDown(now.Name, failure.ToString());
        }
        else if (now.Report.Reachable && (before is null || !before.Report.Reachable))
        {
            logger.NodeUp(now.Name, RoleName(now));
        }
    }

    private void LogRole(NodeStatus? before, NodeStatus now)
    {
        if (before is { Report.Reachable: true } && before.Report.Role != now.Report.Role)
        {
            logger.NodeRoleChanged(now.Name, RoleName(before), RoleName(now));
        }
    }

    private void LogStreaming(NodeStatus? before, NodeStatus now)
    {
        if (!now.IsReachableStandby || before is not { IsReachableStandby: true })
        {
            return;
        }

        if (before.IsStreaming && !now.IsStreaming)
        {
            logger.StandbyStoppedStreaming(now.Name, now.Report.WalReceiver?.Status ?? "not running");
        }
        else if (!before.IsStreaming && now.IsStreaming)
        {
            logger.StandbyStreaming(now.Name);
        }
    }

    private void LogLag(NodeStatus? before, NodeStatus now)
    {
        var wasAbove = before?.ReceiveLagBytes > _lagLimit;
        var isAbove = now.ReceiveLagBytes > _lagLimit;
        if (isAbove && !wasAbove)
        {
            logger.NodeLagAboveLimit(now.Name, now.ReceiveLagBytes!.Value, _lagLimit);
        }
        else if (wasAbove && !isAbove && now.ReceiveLagBytes is { } lag)
        {
            logger.NodeLagWithinLimit(now.Name, lag);
        }
    }

    private static string RoleName(NodeStatus node) => node.Report.Role.ToString().ToLowerInvariant();
}
