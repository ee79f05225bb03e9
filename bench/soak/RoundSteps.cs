using System.Diagnostics;
using FailoverWatch.IntegrationTests.Fixtures;
using Npgsql;

namespace FailoverWatch.Soak;

/// <summary>One look at a round's cluster: the writable nodes, the primary each monitor asked names (null: none, or no answer), both described.</summary>
internal sealed record Snapshot(IReadOnlyList<string> Writable, IReadOnlyList<string?> Named, string Described)
{
    /// <summary>The one writable node when every monitor asked names it; else null.</summary>
    public string? Settled => Writable is [var only] && Named.Count > 0 && Named.All(n => n == only) ? only : null;
}

/// <summary>The steps every kind of round takes alike: its cluster's start, the settle after the fault, and the check that it held.</summary>
internal static class RoundSteps
{
    /// <summary>Builds the round's cluster, once more if the first try fails (a port taken between "is it free?" and bind, as seen on loaded machines).</summary>
    public static async Task<T> StartClusterAsync<T>(Func<Task<T>> start, CancellationToken cancellationToken)
    {
        try
        {
            return await start();
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or NpgsqlException && !cancellationToken.IsCancellationRequested)
        {
            Console.WriteLine($"    set-up failed, trying once more: {e.Message.Split('\n')[0]}");
            return await start();
        }
    }

    /// <summary>Each node's role straight from its server: the writable ones, and every node described.</summary>
    public static async Task<(List<string> Writable, string Described)> NodesAsync(ISoakCluster cluster, CancellationToken cancellationToken)
    {
        var states = await Task.WhenAll(cluster.Nodes.Select(n => ClusterObserver.IsWritableAsync(n, cancellationToken)));
        var writable = cluster.Nodes.Where((_, i) => states[i] == true).Select(n => n.Name).ToList();
        return (writable, string.Join(' ', cluster.Nodes.Select((n, i) => $"{n.Name}={(states[i] switch { true => "writable", false => "standby", null => "down" })}")));
    }

    /// <summary>Polls until exactly one node is writable and every monitor asked names it; that node, or null and the last state seen.</summary>
    public static async Task<(string? Primary, string State)> SettleAsync(Func<CancellationToken, Task<Snapshot>> snapshot, TimeSpan within, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var state = "";
        while (clock.Elapsed < within)
        {
            var seen = await snapshot(cancellationToken);
            state = seen.Described;
            if (seen.Settled is { } primary)
            {
                return (primary, state);
            }

            await Task.Delay(100, cancellationToken);
        }

        return (null, state);
    }

    /// <summary>
    /// After a settle on <paramref name="primary"/>: the client should now reach it, its writes there being the
    /// failover's end (a note when they do not), and the settle should hold (a violation when it does not).
    /// </summary>
    public static async Task ConfirmAsync(string primary, WriteClient client, Stopwatch clock, Func<CancellationToken, Task<Snapshot>> snapshot, List<string> notes, List<string> violations, CancellationToken cancellationToken)
    {
        var settledAt = clock.Elapsed;
        try
        {
            await Wait.UntilAsync(() => client.Acks.Any(a => a.At > settledAt && a.Node == primary), TimeSpan.FromSeconds(15), $"a client write on {primary}");
        }
        catch (TimeoutException e)
        {
            notes.Add(e.Message);
        }

        var after = await snapshot(cancellationToken);
        if (after.Writable is not [var only] || only != primary || after.Named.Any(n => n != primary))
        {
            violations.Add($"settled on {primary}, but it did not hold: {after.Described}");
        }
    }
}
