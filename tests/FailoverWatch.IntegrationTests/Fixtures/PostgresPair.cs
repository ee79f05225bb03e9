using FailoverWatch.LocalServers;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// A real primary with a streaming hot standby on loopback, each on a free port in its own folder,
/// torn down after the test whatever happened. The standby may stream through a relay the test can cut.
/// </summary>
public sealed class PostgresPair : IAsyncDisposable
{
    private readonly TempDirectory _directory;

    private PostgresPair(TempDirectory directory, LocalPostgresServer primary, LocalPostgresServer standby, TcpRelay? replicationRelay)
    {
        _directory = directory;
        Primary = primary;
        Standby = standby;
        ReplicationRelay = replicationRelay;
    }

    internal LocalPostgresServer Primary { get; }

    internal LocalPostgresServer Standby { get; }

    /// <summary>Present when the pair was made with <c>relayReplication</c>: the standby's WAL stream goes through it.</summary>
    public TcpRelay? ReplicationRelay { get; }

    public string DirectoryPath => _directory.Path;

    /// <param name="relayReplication">Route the standby's replication connection through a relay the test can close.</param>
    /// <param name="walReceiverTimeout">The standby's <c>wal_receiver_timeout</c>: how long a hung primary still looks like it streams.</param>
    public static async Task<PostgresPair> StartAsync(bool relayReplication = false, string walReceiverTimeout = "5s")
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var directory = new TempDirectory();
        LocalPostgresServer? primary = null;
        TcpRelay? relay = null;
        try
        {
            var binaries = PostgresBinaries.Find();
            primary = await LocalPostgresServer.CreatePrimaryAsync(binaries, "pg1", directory.Path, cancel.Token);
            relay = relayReplication ? TcpRelay.Start(primary.Port) : null;
            string[] standbySettings = [$"wal_receiver_timeout = '{walReceiverTimeout}'", "wal_retrieve_retry_interval = '500ms'"];
            var standby = await LocalPostgresServer.CreateStandbyAsync(primary, "pg2", directory.Path, cancel.Token, relay?.Port, standbySettings);
            var pair = new PostgresPair(directory, primary, standby, relay);
            await pair.WaitForStreamingAsync();
            return pair;
        }
        catch
        {
            relay?.Dispose();
            if (primary is not null)
            {
                await primary.DisposeAsync();
            }

            directory.Dispose();
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
            await Standby.DisposeAsync();
            await Primary.DisposeAsync();
        }
        finally
        {
            ReplicationRelay?.Dispose();
            _directory.Dispose();
        }
    }
}
