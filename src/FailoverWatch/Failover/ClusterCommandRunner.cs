using FailoverWatch.Configuration;
using FailoverWatch.Logging;
using FailoverWatch.Processes;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Failover;

/// <summary>
/// Runs the operator's commands (fence, stop, hooks) through the shell with a timeout, the FW_* environment
/// of CONTRACT.md, a trace span each, and their output logged.
/// </summary>
internal sealed class ClusterCommandRunner(FailoverWatchOptions options, ILogger<ClusterCommandRunner> logger)
{
    public const string FailoverEvent = "failover";
    public const string SplitBrainEvent = "split_brain";
    public const string SwitchoverEvent = "switchover";

    /// <returns>True when the command ran and exited 0; false when it failed or none is configured.</returns>
    public async Task<bool> RunAsync(string purpose, string? commandLine, string node, string eventName, string? oldPrimary, string? newPrimary, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(commandLine))
        {
            logger.CommandMissing(purpose, node);
            return false;
        }

        using var activity = FailoverWatchActivity.Source.StartActivity(purpose);
        activity?.SetTag("failoverwatch.node", node);
        var environment = new Dictionary<string, string>
        {
            ["FW_EVENT"] = eventName,
            ["FW_CLUSTER"] = options.Cluster.Name,
            ["FW_OLD_PRIMARY"] = oldPrimary ?? "",
            ["FW_NEW_PRIMARY"] = newPrimary ?? "",
            ["FW_NODE"] = node,
        };
        var result = await ExternalProcess.RunShellAsync(commandLine, options.Hooks.Timeout, cancellationToken, environment);
        var output = (result.StandardOutput + result.StandardError).Trim();
        if (result.Succeeded)
        {
            logger.CommandSucceeded(purpose, node, output);
        }
        else
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, result.Describe());
            logger.CommandFailed(purpose, node, result.Describe(), output);
        }

        return result.Succeeded;
    }
}
