using System.Diagnostics;
using FailoverWatch.Configuration;
using FailoverWatch.Incidents;
using FailoverWatch.Logging;
using FailoverWatch.State;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Failover;

/// <summary>
/// Split brain on a path of its own: each round that shows an intruder starts its fence at once, never behind the
/// coordinator's own promotion, hook or switchover (which may run for minutes), nor behind another node's slow fence.
/// Announces each intruder once (log, counter, incident, on_split_brain) but fences it every round until a fence
/// works or it stops being writable. One fence per node at a time: the coordinator's fences go through here too.
/// </summary>
internal sealed class SplitBrainGuard(FailoverWatchOptions options, IncidentRecorder incidents, ClusterCommandRunner commands, FailoverWatchMetrics metrics, ILogger logger)
{
    private readonly Lock _gate = new();

    // Intruders announced and those whose fence worked, this episode (an episode ends with a round without split brain).
    private readonly HashSet<string> _announced = new(StringComparer.Ordinal);
    private readonly HashSet<string> _fenced = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task<bool>> _fencing = new(StringComparer.Ordinal);

    // An intruder's fence until its outcome is in _fenced: _fencing forgets the command a moment earlier.
    private readonly Dictionary<string, Task<bool>> _intruderFences = new(StringComparer.Ordinal);
    private readonly List<Task> _pending = [];
    private int _episode;

    /// <summary>Every fence and announcement still running (for tests and a clean stop).</summary>
    internal Task Running
    {
        get
        {
            lock (_gate)
            {
                return Task.WhenAll([.. _fencing.Values, .. _pending]);
            }
        }
    }

    /// <summary>
    /// This round's split brain, or null when there is none. Returns at once: fences and the hook run beside the loop.
    /// </summary>
    /// <param name="fence">False while paused: intruders are still announced (an alert, an incident), never fenced.</param>
    public void OnRound(ResolveSplitBrain? splitBrain, bool fence, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _pending.RemoveAll(t => t.IsCompleted);
            if (splitBrain is null)
            {
                if (_announced.Count + _fenced.Count > 0)
                {
                    _episode++;
                    _announced.Clear();
                    _fenced.Clear();
                }

                return;
            }

            var newNodes = splitBrain.Fence.Where(n => !_announced.Contains(n)).ToList();
            var incident = IncidentHandle.None;

            // The episode's span, parent of its fences and hook, ended when they are; never the round's own.
            var round = Activity.Current;
            var activity = newNodes.Count > 0 ? FailoverWatchActivity.Source.StartActivity("split brain") : null;
            try
            {
                if (newNodes.Count > 0)
                {
                    logger.SplitBrain(splitBrain.Reason);
                    metrics.SplitBrains.Inc(options.Cluster.Name);
                    _announced.UnionWith(newNodes);
                    incident = incidents.Open(IncidentKinds.SplitBrain, splitBrain, string.Join(",", newNodes), splitBrain.Keep, walLostBytes: null);
                }

                List<Task<bool>> fences = [];
                foreach (var node in fence ? splitBrain.Fence.Where(n => !_fenced.Contains(n) && !_fencing.ContainsKey(n) && !IsIntruderFenceRunning(n)) : [])
                {
                    fences.Add(_intruderFences[node] = FenceIntruderAsync(node, splitBrain.Keep, incident, cancellationToken));
                }

                _pending.AddRange(fences);
                if (newNodes.Count > 0)
                {
                    _pending.Add(AnnounceAsync(splitBrain.Keep, newNodes, fences, incident, activity, cancellationToken));
                }
            }
            finally
            {
                Activity.Current = round;
            }
        }
    }

    /// <summary>Runs <paramref name="node"/>'s fence_command, or joins the fence of it already running.</summary>
    public Task<bool> FenceAsync(string node, string oldPrimary, string newPrimary, string eventName, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_fencing.TryGetValue(node, out var running))
            {
                return running;
            }

            var fence = Task.Run(() => commands.RunAsync(ClusterCommandRunner.Fence, options.Cluster.Node(node).FenceCommand, node, eventName, oldPrimary, newPrimary, cancellationToken), CancellationToken.None);
            _fencing[node] = fence;
            _ = fence.ContinueWith(_ => Forget(node, fence), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return fence;
        }
    }

    private async Task<bool> FenceIntruderAsync(string node, string keep, IncidentHandle incident, CancellationToken cancellationToken)
    {
        var episode = _episode;

        // With no fence_command there is nothing to retry: the warning at start and the alert say so.
        var fenced = await incident.TrackAsync(IncidentPhases.Fence, FenceAsync(node, node, keep, ClusterCommandRunner.SplitBrainEvent, cancellationToken), cancellationToken)
            || string.IsNullOrWhiteSpace(options.Cluster.Node(node).FenceCommand);
        lock (_gate)
        {
            if (!fenced)
            {
                logger.FenceFailed(node);
            }
            else if (episode == _episode)
            {
                _fenced.Add(node);
            }
        }

        return fenced;
    }

    private async Task AnnounceAsync(string keep, List<string> newNodes, List<Task<bool>> fences, IncidentHandle incident, Activity? activity, CancellationToken cancellationToken)
    {
        try
        {
            var hook = commands.RunAsync(ClusterCommandRunner.OnSplitBrain, options.Hooks.OnSplitBrain, keep, ClusterCommandRunner.SplitBrainEvent, string.Join(",", newNodes), keep, cancellationToken);
            await incident.TrackAsync(IncidentPhases.Hook, hook, cancellationToken);
            await Task.WhenAll(fences);
            await incident.CloseAsync("recorded", cancellationToken);
        }
        finally
        {
            activity?.Dispose();
        }
    }

    private bool IsIntruderFenceRunning(string node) => _intruderFences.TryGetValue(node, out var fence) && !fence.IsCompleted;

    private void Forget(string node, Task<bool> fence)
    {
        lock (_gate)
        {
            if (_fencing.TryGetValue(node, out var current) && current == fence)
            {
                _fencing.Remove(node);
            }
        }
    }
}
