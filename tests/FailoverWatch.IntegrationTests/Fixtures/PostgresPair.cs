using FailoverWatch.LocalServers;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// A real primary with a streaming hot standby on loopback, each on a free port in its own folder,
/// torn down after the test whatever happened. The standby may stream through a relay the test can cut.
/// </summary>
public sealed class PostgresPair : IAsyncDisposable
{
    private readonly LocalReplicationPair _pair;

    private PostgresPair(LocalReplicationPair pair, TcpRelay? replicationRelay)
    {
        _pair = pair;
        ReplicationRelay = replicationRelay;
    }

    internal LocalPostgresServer Primary => _pair.Primary;

    internal LocalPostgresServer Standby => _pair.Standby;

    /// <summary>Present when the pair was made with <c>relayReplication</c>: the standby's WAL stream goes through it.</summary>
    public TcpRelay? ReplicationRelay { get; }

    public string DirectoryPath => _pair.Directory;

    /// <param name="relayReplication">Route the standby's replication connection through a relay the test can close.</param>
    /// <param name="walReceiverTimeout">The standby's <c>wal_receiver_timeout</c>: how long a hung primary still looks like it streams.</param>
    public static async Task<PostgresPair> StartAsync(bool relayReplication = false, string walReceiverTimeout = "5s")
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        TcpRelay? relay = null;
        string[] standbySettings = [$"wal_receiver_timeout = '{walReceiverTimeout}'", "wal_retrieve_retry_interval = '500ms'"];
        LocalReplicationPair? pair = null;
        try
        {
            pair = await LocalReplicationPair.StartAsync(
                "fw-test-", standbySettings, cancel.Token, relayReplication ? primaryPort => (relay = TcpRelay.Start(primaryPort)).Port : null);
            var started = new PostgresPair(pair, relay);
            await started.WaitForStreamingAsync();
            return started;
        }
        catch
        {
            relay?.Dispose();
            if (pair is not null)
            {
                await pair.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Waits until the primary sees the standby streaming.</summary>
    public Task WaitForStreamingAsync() =>
        Wait.UntilAsync(
            async () => await Primary.QueryScalarAsync<long>("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'", CancellationToken.None) > 0,
            TimeSpan.FromSeconds(60),
            "standby streaming");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _pair.DisposeAsync();
        }
        finally
        {
            ReplicationRelay?.Dispose();
        }
    }
}
