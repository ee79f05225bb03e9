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

        var restore = PostgresRestoreTest.RunAsync(Path.Combine(dir.File("dest"), backup.Id), backup.Manifest!.Postgres!, null, CancellationToken.None);
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

                // Read while the server runs; the restore may end and remove it meanwhile, and what was read then says nothing.
                UnixFileMode folderMode, socketMode;
                try
                {
                    folderMode = File.GetUnixFileMode(Path.GetDirectoryName(Path.GetDirectoryName(socketFolder))!);
                    socketMode = File.GetUnixFileMode(postmaster);
                }
                catch (IOException)
                {
                    continue;
                }

                var port = postmaster[(postmaster.LastIndexOf('.') + 1)..];
                var listening = await ExternalProcess.RunAsync("ss", ["-Hltn", $"sport = :{port}"], TimeSpan.FromSeconds(10), CancellationToken.None);
                var owner = await ExternalProcess.RunAsync("stat", ["-c", "%U", socketFolder], TimeSpan.FromSeconds(10), CancellationToken.None);
                var psql = LocalServers.PostgresBinaries.Find().Tool("psql");
                var other = await ExternalProcess.RunAsync("runuser", ["-u", "daemon", "--", psql, "-X", "-h", socketFolder, "-p", port, "-U", "postgres", "-c", "SELECT 1"], TimeSpan.FromSeconds(10), CancellationToken.None);
                if (!File.Exists(postmaster))
                {
                    continue;
                }

                looked++;
                var ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
                Assert.Equal(ownerOnly, folderMode);
                Assert.Equal(ownerOnly, socketMode & ~UnixFileMode.SetUser & ~UnixFileMode.SetGroup & ~UnixFileMode.StickyBit);
                // No TCP listener on the server's port, on any address.
                Assert.True(listening.StandardOutput.Trim().Length == 0, listening.StandardOutput);
                // The server runs as the restore test's own account, not as the cluster's server account.
                Assert.Equal(RestoreTestAccount.Resolve(null), owner.StandardOutput.Trim());
                // Another OS user cannot even reach the socket (root could, as it can read the data folder anyway).
                Assert.False(other.Succeeded, other.StandardOutput);
            }

            await Task.WhenAny(restore, Task.Delay(TimeSpan.FromMilliseconds(100)));
        }

        Assert.Empty(await restore);
        Assert.True(looked > 0, "the scratch server was never seen running");
    }

    /// <summary>
    /// A database owner swaps the bodies of functions that an index expression and a check constraint call: restoring
    /// the dump runs them. Run as the token's owner they read it (the trap is real); run as the restore test's own
    /// account they fail, and the token is in no row and no output.
    /// </summary>
    [Fact]
    public async Task a_function_in_the_dump_that_reads_the_admin_token_fails_and_the_token_appears_nowhere()
    {
        await using var pair = await PostgresPair.StartAsync();
        using var dir = new TempDirectory();
        var token = "admin-token-" + Guid.NewGuid().ToString("N");
        var tokenFile = dir.File("admin-token");
        BackupRig.WriteFile(tokenFile, token, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // Owned by the account that ran the scratch server before, as the service user's own files are its own.
        LocalServers.OsUser.GiveToServerAccount(tokenFile);
        await pair.Primary.ExecuteAsync($$"""
            CREATE TABLE loot (t text);
            CREATE TABLE indexed (id int);
            CREATE TABLE checked (id int);
            INSERT INTO indexed SELECT generate_series(1, 10);
            INSERT INTO checked SELECT generate_series(1, 10);
            CREATE FUNCTION by_index(i int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT i';
            CREATE FUNCTION by_check(i int) RETURNS boolean LANGUAGE sql AS 'SELECT true';
            CREATE INDEX indexed_trap ON indexed (by_index(id));
            ALTER TABLE checked ADD CONSTRAINT checked_trap CHECK (by_check(id));
            CREATE OR REPLACE FUNCTION by_index(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE
                AS $f$ BEGIN RAISE EXCEPTION 'stolen: %', pg_read_file('{{tokenFile}}'); END $f$;
            CREATE OR REPLACE FUNCTION by_check(i int) RETURNS boolean LANGUAGE plpgsql
                AS $f$ BEGIN EXECUTE 'COPY public.loot FROM PROGRAM ''cat {{tokenFile}}'''; RETURN true; END $f$;
            """, CancellationToken.None);
        var config = dir.File("fw.yaml");
        string Config(string user) => BackupRig.Nodes(pair) + $$"""

            backup:
              destination: {{dir.File("dest")}}
              postgres: { from: primary }
              {{user}}
            """;
        await File.WriteAllTextAsync(config, Config("restore_test_user: " + LocalServers.OsUser.ServerAccount));
        var (backupExit, backupOutput) = await MonitorProcess.RunCliAsync("backup", "--config", config);
        Assert.True(backupExit == 0, backupOutput);

        var (leakExit, leakOutput) = await MonitorProcess.RunCliAsync("verify", "--config", config, "--restore-test");
        Assert.True(leakExit == 1, leakOutput);
        Assert.True(leakOutput.Contains("public.loot: 10 rows after restore, 0 when dumped", StringComparison.Ordinal), leakOutput);
        Assert.Contains("stolen: " + token, File.ReadAllText(Directory.EnumerateFiles(dir.File("dest"), "verified.json", SearchOption.AllDirectories).Single()), StringComparison.Ordinal);

        await File.WriteAllTextAsync(config, Config(""));
        var (exit, output) = await MonitorProcess.RunCliAsync("verify", "--config", config, "--restore-test");
        Assert.True(exit == 1, output);
        // cat, run by the server as its own account, is denied the token (its stderr goes to the server log).
        Assert.True(output.Contains($"program \"cat {tokenFile}\" failed", StringComparison.Ordinal), output);
        Assert.DoesNotContain(token, output, StringComparison.Ordinal);
        // Had the COPY read the token, loot would hold rows the dump did not have.
        Assert.DoesNotContain("loot", output, StringComparison.Ordinal);
        Assert.Contains("public.checked: 0 rows after restore, 10 when dumped", output, StringComparison.Ordinal);

        // check-config names a restore test that would run as the service user, or as no one.
        foreach (var (user, expected) in new[] { ("failoverwatch", "is the service user"), ("no-such-user-fw", "does not exist") })
        {
            await File.WriteAllTextAsync(config, Config("restore_test_user: " + user));
            var (checkExit, checkOutput) = await MonitorProcess.RunCliAsync("check-config", "--config", config);
            Assert.True(checkExit == 0, checkOutput);
            Assert.Contains($"warning: backup.restore_test_user: {user} {expected}", checkOutput, StringComparison.Ordinal);
        }

        // The service is not root. As failoverwatch, without a socket unit, check-config says the restore test would run
        // as failoverwatch itself; with one (systemd-socket-activate does what Accept=yes does) starting the worker as
        // nobody, the same traps fail, although the token is now failoverwatch's own file.
        var socket = dir.File("restore.sock");
        await File.WriteAllTextAsync(config, Config("restore_test_socket: " + socket));
        await ExternalProcess.RunAsync("chown", ["-R", "failoverwatch:", dir.Path], TimeSpan.FromSeconds(30), CancellationToken.None);
        var (noSocketExit, noSocketOutput) = await AsServiceUserAsync("check-config", "--config", config);
        Assert.True(noSocketExit == 0, noSocketOutput);
        Assert.Contains($"warning: backup.restore_test_socket: {socket} does not exist, so the service, run as failoverwatch, runs the restore test as failoverwatch itself", noSocketOutput, StringComparison.Ordinal);
        var (_, doctorOutput) = await AsServiceUserAsync("doctor", "--config", config);
        Assert.Contains($"warning: backup.restore_test_socket: {socket} does not exist", doctorOutput, StringComparison.Ordinal);

        await using (var unit = ChildProcess.Start("systemd-socket-activate", ["--inetd", "--accept", "-l", socket, "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", "sh", "-c", MonitorProcess.ShellCommandLine("restore-test-worker")]))
        {
            await Wait.UntilAsync(() => Task.FromResult(File.Exists(socket)), TimeSpan.FromSeconds(30), "restore test socket");
            File.SetUnixFileMode(socket, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var (notOursExit, notOursOutput) = await AsServiceUserAsync("check-config", "--config", config);
            Assert.True(notOursExit == 0 && notOursOutput.Contains($"warning: backup.restore_test_socket: the service user failoverwatch cannot connect to {socket}", StringComparison.Ordinal), notOursOutput);

            // SocketUser=failoverwatch, SocketMode=0600.
            await ExternalProcess.RunAsync("chown", ["failoverwatch:", socket], TimeSpan.FromSeconds(10), CancellationToken.None);
            var (readyExit, readyOutput) = await AsServiceUserAsync("check-config", "--config", config);
            Assert.True(readyExit == 0, readyOutput);
            Assert.DoesNotContain("restore_test_socket", readyOutput, StringComparison.Ordinal);

            var (socketExit, socketOutput) = await AsServiceUserAsync("verify", "--config", config, "--restore-test");
            Assert.True(socketExit == 1, socketOutput + unit.Output);
            Assert.True(socketOutput.Contains($"program \"cat {tokenFile}\" failed", StringComparison.Ordinal), socketOutput + unit.Output);
            Assert.DoesNotContain(token, socketOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("loot", socketOutput, StringComparison.Ordinal);
            Assert.Contains("public.checked: 0 rows after restore, 10 when dumped", socketOutput, StringComparison.Ordinal);
        }
    }

    /// <summary>The CLI run as the service's account, as systemd's User=failoverwatch runs it.</summary>
    private static async Task<(int ExitCode, string Output)> AsServiceUserAsync(params string[] arguments)
    {
        var result = await ExternalProcess.RunAsync("runuser", ["-u", "failoverwatch", "--", "sh", "-c", MonitorProcess.ShellCommandLine(arguments)], TimeSpan.FromMinutes(3), CancellationToken.None);
        return (result.ExitCode, result.StandardOutput + result.StandardError);
    }
}
