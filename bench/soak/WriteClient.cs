using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace FailoverWatch.Soak;

/// <summary>An acknowledged write: its id, the node that committed it, when (round clock) and where in that node's WAL.</summary>
internal sealed record Ack(long Id, string Node, TimeSpan At, NpgsqlLogSequenceNumber Lsn);

/// <summary>
/// An application writing numbered rows through Npgsql multi-host (<c>Target Session Attributes=read-write</c>),
/// one connection kept open as applications do and reopened after any error. Every id is new (a retry never
/// reuses one), so the acknowledged ids are exactly the rows that must survive.
/// </summary>
internal sealed class WriteClient : IAsyncDisposable
{
    /// <summary>Row payload: small rows at a steady pace keep the load modest on a shared machine.</summary>
    private static readonly string Payload = new('x', 100);
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(10);
    private readonly string _connectionString;
    private readonly IReadOnlyDictionary<int, string> _nodeByPort;
    private readonly Stopwatch _clock;
    private readonly List<Ack> _acks = [];
    private readonly BackgroundWork _work;
    private long _nextId;

    public WriteClient(ISoakCluster cluster, Stopwatch clock)
    {
        _connectionString = cluster.ClientConnectionString;
        _nodeByPort = cluster.Nodes.ToDictionary(n => n.Port, n => n.Name);
        _clock = clock;
        _work = new BackgroundWork(RunAsync);
    }

    public IReadOnlyList<Ack> Acks
    {
        get
        {
            lock (_acks)
            {
                return [.. _acks];
            }
        }
    }

    public int Errors { get; private set; }

    public ValueTask DisposeAsync() => _work.DisposeAsync();

    private async Task RunAsync(CancellationToken stop)
    {
        NpgsqlConnection? connection = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
                deadline.CancelAfter(TimeSpan.FromSeconds(5));
                try
                {
                    if (connection is null)
                    {
                        connection = new NpgsqlConnection(_connectionString);
                        await connection.OpenAsync(deadline.Token);
                    }

                    var id = ++_nextId;
                    await using var insert = new NpgsqlCommand(
                        "INSERT INTO soak (id, payload) VALUES ($1, $2) RETURNING inet_server_port(), pg_current_wal_insert_lsn()", connection)
                    {
                        Parameters = { new() { Value = id }, new() { Value = Payload } },
                    };
                    int port;
                    NpgsqlLogSequenceNumber lsn;
                    await using (var reader = await insert.ExecuteReaderAsync(deadline.Token))
                    {
                        await reader.ReadAsync(deadline.Token);
                        (port, lsn) = (reader.GetInt32(0), reader.GetFieldValue<NpgsqlLogSequenceNumber>(1));
                    }

                    // Acknowledged only once the reader is closed (ReadyForQuery): the row arrives before the commit, and a
                    // backend killed while its synchronous commit waits flushes it on the way out (seen in a sync round).
                    var ack = new Ack(id, _nodeByPort[port], _clock.Elapsed, lsn);
                    lock (_acks)
                    {
                        _acks.Add(ack);
                    }

                    await Task.Delay(Pace, stop);
                }
                catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException or IOException or InvalidOperationException && !stop.IsCancellationRequested)
                {
                    Errors++;
                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                        connection = null;
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(50), stop);
                }
            }
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
