using System.Collections.Concurrent;
using Npgsql;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// A client writing through a proxy without pause, each insert on a new connection into <c>routed(id)</c>: which ids
/// were acknowledged, and by which server (its port). What a lost write is made of: acknowledged, then found on a
/// node that is not the primary.
/// </summary>
public sealed class RoutedWriter : IAsyncDisposable
{
    // Never disposed: cancelling is all it is for, and a disposed one could not say it was cancelled.
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private RoutedWriter(int proxyPort) => _loop = Task.Run(() => WriteAsync(proxyPort, _stop.Token));

    /// <summary>Each acknowledged insert: its id and the port of the server that committed it.</summary>
    public ConcurrentDictionary<int, int> Acknowledged { get; } = new();

    public const string CreateTable = "CREATE TABLE routed (id int PRIMARY KEY)";

    public static RoutedWriter Start(int proxyPort) => new(proxyPort);

    private async Task WriteAsync(int proxyPort, CancellationToken cancellationToken)
    {
        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = proxyPort, Username = "postgres", Database = "postgres",
            Pooling = false, Timeout = 2, CommandTimeout = 2,
        }.ConnectionString;
        for (var id = 1; !cancellationToken.IsCancellationRequested; id++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                await using var insert = new NpgsqlCommand("INSERT INTO routed VALUES ($1) RETURNING current_setting('port')::int", connection) { Parameters = { new() { Value = id } } };
                Acknowledged[id] = (int)(await insert.ExecuteScalarAsync(cancellationToken))!;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or IOException or OperationCanceledException)
            {
                // Refused or cut: not acknowledged, so not a lost write whatever became of it.
            }

            // About 50 connections a second: enough to catch a check interval, light on a shared machine.
            await Task.Delay(TimeSpan.FromMilliseconds(20), CancellationToken.None);
        }
    }

    /// <summary>The ids of <c>routed</c> on <paramref name="server"/>.</summary>
    internal static async Task<HashSet<int>> IdsOnAsync(LocalServers.LocalPostgresServer server)
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString());
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var select = new NpgsqlCommand("SELECT id FROM routed", connection);
        await using var reader = await select.ExecuteReaderAsync();
        var ids = new HashSet<int>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt32(0));
        }

        return ids;
    }

    /// <summary>Stops writing (once; a test stops it before counting, and disposal stops it again).</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        await _loop;
    }
}
