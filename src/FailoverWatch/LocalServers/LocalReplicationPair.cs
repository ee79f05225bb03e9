namespace FailoverWatch.LocalServers;

/// <summary>
/// A primary and a streaming hot standby on free loopback ports, in a new temp folder of their own.
/// The demo, the test fixtures and the benchmarks build on it; dispose stops both and removes the folder.
/// </summary>
internal sealed class LocalReplicationPair : IAsyncDisposable
{
    private LocalReplicationPair(string directory, LocalPostgresServer primary, LocalPostgresServer standby)
    {
        Directory = directory;
        Primary = primary;
        Standby = standby;
    }

    public string Directory { get; }

    public LocalPostgresServer Primary { get; }

    public LocalPostgresServer Standby { get; }

    /// <param name="prefix">Start of the temp folder's name.</param>
    /// <param name="standbySettings">Extra settings for the standby, such as <c>wal_receiver_timeout</c>.</param>
    /// <param name="upstreamPort">Given the primary's port, the port the standby streams from (a relay in front of it); default the primary's own.</param>
    public static async Task<LocalReplicationPair> StartAsync(string prefix, IEnumerable<string> standbySettings, CancellationToken cancellationToken, Func<int, int>? upstreamPort = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..10]);
        System.IO.Directory.CreateDirectory(directory);
        OsUser.GiveToServerAccount(directory);
        LocalPostgresServer? primary = null;
        try
        {
            primary = await LocalPostgresServer.CreatePrimaryAsync(PostgresBinaries.Find(), "pg1", directory, cancellationToken);
            var standby = await LocalPostgresServer.CreateStandbyAsync(
                primary, "pg2", directory, cancellationToken, upstreamPort?.Invoke(primary.Port), standbySettings);
            return new LocalReplicationPair(directory, primary, standby);
        }
        catch
        {
            if (primary is not null)
            {
                await primary.DisposeAsync();
            }

            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Standby.DisposeAsync();
            await Primary.DisposeAsync();
        }
        finally
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is not worth failing a teardown for.
            }
        }
    }
}
