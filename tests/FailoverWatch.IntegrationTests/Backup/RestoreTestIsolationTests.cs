using FailoverWatch.Backup.Restore;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Processes;

namespace FailoverWatch.IntegrationTests.Backup;

/// <summary>The restore test's scratch server, which holds every restored row: no TCP, a 0700 socket folder, a password no one else has.</summary>
public sealed class RestoreTestIsolationTests
{
    [Fact]
    public async Task the_scratch_server_listens_on_no_tcp_port_and_no_one_else_can_connect()
    {
        await using var pair = await PostgresPair.StartAsync();
        await pair.Primary.ExecuteAsync("CREATE TABLE kept AS SELECT generate_series(1, 10) AS id", CancellationToken.None);
        using var dir = new TempDirectory();
        var (runner, _) = BackupRig.Runner(BackupRig.Load(BackupRig.Nodes(pair) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              postgres: { from: primary }
            """, dir.Path));
        var backup = await runner.RunAsync(null, null, CancellationToken.None);
        Assert.True(backup.Succeeded, backup.Error);

        var restore = PostgresRestoreTest.RunAsync(Path.Combine(dir.File("dest"), backup.Id), backup.Manifest!.Postgres!, CancellationToken.None);
        var looked = 0;
        while (!restore.IsCompleted)
        {
            foreach (var socketFolder in Directory.EnumerateDirectories(Path.GetTempPath(), "fw-restore-test-*").Select(d => Path.Combine(d, "scratch", "sock")).Where(Directory.Exists))
            {
                var postmaster = Directory.EnumerateFiles(socketFolder, ".s.PGSQL.*").FirstOrDefault(f => !f.EndsWith(".lock", StringComparison.Ordinal));
                if (postmaster is null)
                {
                    continue;
                }

                looked++;
                var ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
                Assert.Equal(ownerOnly, File.GetUnixFileMode(Path.GetDirectoryName(Path.GetDirectoryName(socketFolder))!));
                Assert.Equal(ownerOnly, File.GetUnixFileMode(postmaster) & ~UnixFileMode.SetUser & ~UnixFileMode.SetGroup & ~UnixFileMode.StickyBit);
                var port = postmaster[(postmaster.LastIndexOf('.') + 1)..];
                // No TCP listener on the server's port, on any address.
                var listening = await ExternalProcess.RunAsync("ss", ["-Hltn", $"sport = :{port}"], TimeSpan.FromSeconds(10), CancellationToken.None);
                Assert.True(listening.StandardOutput.Trim().Length == 0, listening.StandardOutput);
                // Another OS user cannot even reach the socket (root could, as it can read the data folder anyway).
                var psql = LocalServers.PostgresBinaries.Find().Tool("psql");
                var other = await ExternalProcess.RunAsync("runuser", ["-u", "nobody", "--", psql, "-X", "-h", socketFolder, "-p", port, "-U", "postgres", "-c", "SELECT 1"], TimeSpan.FromSeconds(10), CancellationToken.None);
                Assert.False(other.Succeeded, other.StandardOutput);
            }

            await Task.WhenAny(restore, Task.Delay(TimeSpan.FromMilliseconds(100)));
        }

        Assert.Empty(await restore);
        Assert.True(looked > 0, "the scratch server was never seen running");
    }
}
