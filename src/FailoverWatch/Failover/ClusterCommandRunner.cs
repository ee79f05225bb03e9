using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.Logging;
using FailoverWatch.Processes;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Failover;

/// <summary>
/// Runs the operator's commands (fence, stop, hooks) through the shell with a timeout, the FW_* environment
/// of CONTRACT.md, a trace span each, their output logged, and each non-zero exit or timeout counted.
/// </summary>
internal sealed class ClusterCommandRunner(FailoverWatchOptions options, FailoverWatchMetrics metrics, ILogger<ClusterCommandRunner> logger, IMonitorLeadership? leadership = null)
{
    private readonly IMonitorLeadership _leadership = leadership ?? new SoleMonitor();

    /// <summary>The <c>command</c> label values of <c>failoverwatch_command_failures_total</c>.</summary>
    public const string Fence = "fence";
    public const string OnFailover = "on_failover";
    public const string OnSplitBrain = "on_split_brain";
    public const string Stop = "stop";
    public const string Rejoin = "rejoin";

    public static readonly string[] Commands = [Fence, OnFailover, OnSplitBrain, Stop, Rejoin];

    public const string FailoverEvent = "failover";
    public const string SplitBrainEvent = "split_brain";
    public const string SwitchoverEvent = "switchover";

    /// <summary>on_failover for a node found writable while the recorded primary was dead (promoted by hand, or late).</summary>
    public const string AdoptedEvent = "adopted";

    /// <summary>Makes every failure series exist at 0 before anything runs.</summary>
    public void Initialise()
    {
        foreach (var command in Commands)
        {
            metrics.CommandFailures.Touch(options.Cluster.Name, command);
        }
    }

    /// <param name="purpose">One of <see cref="Commands"/>.</param>
    /// <returns>True when the command ran and exited 0; false when it failed or none is configured.</returns>
    public async Task<bool> RunAsync(string purpose, string? commandLine, string node, string eventName, string? oldPrimary, string? newPrimary, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(commandLine))
        {
            logger.CommandMissing(purpose, node);
            return false;
        }

        return (await RunForResultAsync(purpose, commandLine, node, eventName, oldPrimary, newPrimary, null, options.Hooks.Timeout, cancellationToken)).Succeeded;
    }

    /// <summary>As <see cref="RunAsync"/>, with more environment and a bound of its own; the whole result, output included.</summary>
    public async Task<ProcessResult> RunForResultAsync(
        string purpose, string commandLine, string node, string eventName, string? oldPrimary, string? newPrimary,
        IReadOnlyDictionary<string, string>? moreEnvironment, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Right before the command: a leader deposed since the decision runs nothing (README, "What a stale leader can still do").
        if (await _leadership.GuardActionAsync(purpose, node, cancellationToken) is not { } token)
        {
            return new ProcessResult(-1, "", "not run: this monitor is no longer the leader", TimedOut: false);
        }

        // Span names stay fence, stop and hook (the trace's shape); the tag says which hook.
        using var activity = FailoverWatchActivity.Source.StartActivity(purpose is Fence or Stop or Rejoin ? purpose : "hook");
        activity?.SetTag("failoverwatch.node", node);
        activity?.SetTag("failoverwatch.command", purpose);
        var environment = new Dictionary<string, string>
        {
            ["FW_EVENT"] = eventName,
            ["FW_CLUSTER"] = options.Cluster.Name,
            ["FW_OLD_PRIMARY"] = oldPrimary ?? "",
            ["FW_NEW_PRIMARY"] = newPrimary ?? "",
            ["FW_NODE"] = node,
            ["FW_FENCING_TOKEN"] = token.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in moreEnvironment ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var result = await ExternalProcess.RunShellAsync(commandLine, timeout, cancellationToken, environment);
        var output = (result.StandardOutput + result.StandardError).Trim();
        if (result.Succeeded)
        {
            logger.CommandSucceeded(purpose, node, output);
        }
        else
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, result.Describe());
            metrics.CommandFailures.Inc(options.Cluster.Name, purpose);
            logger.CommandFailed(purpose, node, result.Describe(), output);
        }

        return result;
    }
}
