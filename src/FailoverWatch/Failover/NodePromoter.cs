using FailoverWatch.Configuration;
using FailoverWatch.Monitoring;
using Npgsql;

namespace FailoverWatch.Failover;

/// <summary>Promotes a standby with <c>pg_promote(wait =&gt; true)</c> and confirms it accepts a write.</summary>
internal sealed class NodePromoter(FailoverWatchOptions options)
{
    private static readonly TimeSpan PromoteWait = TimeSpan.FromSeconds(60);

    /// <returns>Null on success, else why it failed.</returns>
    public async Task<string?> PromoteAsync(string node, CancellationToken cancellationToken)
    {
        var connectionString = NodeConnectionStrings.For(Node(node)).ConnectionString;
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(PromoteWait + TimeSpan.FromSeconds(5));
            await connection.OpenAsync(deadline.Token);
            await using (var promote = new NpgsqlCommand($"SELECT pg_promote(true, {(int)PromoteWait.TotalSeconds})", connection))
            {
                if (await promote.ExecuteScalarAsync(deadline.Token) is not true)
                {
                    return $"pg_promote on {node} did not finish within {PromoteWait.TotalSeconds:0}s";
                }
            }

            // Writable means a transaction can be opened read-write; it proves recovery has really ended.
            await using var check = new NpgsqlCommand("SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'", connection);
            return await check.ExecuteScalarAsync(deadline.Token) is true ? null : $"{node} is still not writable after pg_promote";
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return e is PostgresException pg ? pg.MessageText : e.Message;
        }
    }

    private NodeOptions Node(string name) => options.Cluster.Nodes.First(n => n.Name == name);
}
