using System.Globalization;
using System.Text.Json;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;
using FailoverWatch.Rejoin;

namespace FailoverWatch.IntegrationTests;

/// <summary><c>failoverwatch rejoin</c> on real pairs: a diverged old primary in Debian's layout, and the refusals. RejoinHostTests run it in the usual layout, diverged and clean.</summary>
public sealed class RejoinCommandTests
{
    private const int LostCommits = 25;

    [Fact]
    public async Task rejoin_refuses_a_running_primary_a_source_on_an_older_timeline_and_a_node_pg_rewind_cannot_handle_touching_nothing()
    {
        await using var pair = await PostgresPair.StartAsync();
        using var salvage = new TempDirectory();
        var (pg1, pg2) = (pair.Primary, pair.Standby);

        // pg1 is the live primary: never stopped, never rewound (a running server changes its own files, so its config is what is compared).
        var postmaster = pg1.PostmasterPid;
        var config = await File.ReadAllTextAsync(Path.Combine(pg1.DataDirectory, "postgresql.auto.conf"));
        var (exitCode, output) = await RejoinAsync(pg1, pg2, "--salvage-dir", salvage.Path);
        Assert.Equal(1, exitCode);
        Assert.Contains("is a running primary", output, StringComparison.Ordinal);
        Assert.Equal(postmaster, pg1.PostmasterPid);
        Assert.Equal(config, await File.ReadAllTextAsync(Path.Combine(pg1.DataDirectory, "postgresql.auto.conf")));
        Assert.False(File.Exists(Path.Combine(pg1.DataDirectory, "standby.signal")));

        // pg2 is on timeline 2, pg1 still on 1: rewinding pg2 from pg1 would go the wrong way.
        await PromoteAsync(pg2);
        await pg2.StopAsync(CancellationToken.None);
        var before = Snapshot(pg2);
        (exitCode, output) = await RejoinAsync(pg2, pg1, "--salvage-dir", salvage.Path);
        Assert.Equal(1, exitCode);
        Assert.Contains("the source is on timeline 1 and this node on 2", output, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(pg2));

        // A rewind marker whose shell still runs (a rejoin killed by rejoin_timeout, its pg_rewind going on): wait for it,
        // touching nothing; once that shell has gone without removing the marker, the rewind stopped half-way.
        var marker = Path.Combine(Path.GetDirectoryName(pg2.DataDirectory)!, "data.rewind-in-progress");
        using (var rewind = System.Diagnostics.Process.Start("/bin/sh", ["-c", "sleep 600", "sh", marker]))
        {
            try
            {
                await File.WriteAllTextAsync(marker, $"pg_rewind started 2026-01-01T00:00:00Z by pid {rewind.Id}\n");
                before = Snapshot(pg2);
                (exitCode, output) = await RejoinAsync(pg2, pg1, "--salvage-dir", salvage.Path);
                Assert.Equal(1, exitCode);
                Assert.Contains($"(pid {rewind.Id}) is still running", output, StringComparison.Ordinal);
                Assert.Equal(before, Snapshot(pg2));
            }
            finally
            {
                rewind.Kill();
                await rewind.WaitForExitAsync();
            }
        }

        (exitCode, output) = await RejoinAsync(pg2, pg1, "--salvage-dir", salvage.Path);
        Assert.Equal(1, exitCode);
        Assert.Contains("did not finish", output, StringComparison.Ordinal);
        File.Delete(marker);

        // Without checksums or wal_log_hints pg_rewind cannot work: said plainly, nothing touched.
        await pg1.StopAsync(CancellationToken.None);
        await pg1.RunToolAsync("pg_checksums", ["--disable", "-D", pg1.DataDirectory], CancellationToken.None);
        await pg2.StartAsync(CancellationToken.None);
        before = Snapshot(pg1);
        (exitCode, output) = await RejoinAsync(pg1, pg2, "--salvage-dir", salvage.Path);
        Assert.Equal(1, exitCode);
        Assert.Contains("neither data checksums nor wal_log_hints", output, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(pg1));
        Assert.Empty(Directory.GetFileSystemEntries(salvage.Path));
    }

    [Fact]
    public async Task diverged_node_configured_outside_its_data_directory_has_its_lost_commits_salvaged_then_is_rewound_and_keeps_its_own_settings()
    {
        await using var pair = await PostgresPair.StartAsync(relayReplication: true);
        using var salvage = new TempDirectory();
        var (pg1, pg2) = (pair.Primary, pair.Standby);
        await pg1.ExecuteAsync("CREATE TABLE lost_rows (id int)", CancellationToken.None);
        await WaitForReplayAsync(pg1, pg2);

        // Debian's layout: postgresql.conf, pg_hba.conf and pg_ident.conf in a folder of their own, the port in postgresql.conf.
        await pg1.StopAsync(CancellationToken.None);
        var etc = Path.Combine(Path.GetDirectoryName(pg1.DataDirectory)!, "etc");
        Directory.CreateDirectory(etc);
        foreach (var name in new[] { "postgresql.conf", "pg_hba.conf", "pg_ident.conf" })
        {
            File.Move(Path.Combine(pg1.DataDirectory, name), Path.Combine(etc, name));
        }

        var configFile = Path.Combine(etc, "postgresql.conf");
        await File.AppendAllTextAsync(configFile, string.Create(CultureInfo.InvariantCulture,
            $"\ndata_directory = '{pg1.DataDirectory}'\nhba_file = '{etc}/pg_hba.conf'\nident_file = '{etc}/pg_ident.conf'\nport = {pg1.Port}\nwork_mem = '7MB'\n"));
        OsUser.GiveToServerAccount(etc);
        var hba = await File.ReadAllTextAsync(Path.Combine(etc, "pg_hba.conf"));
        var (program, arguments) = OsUser.AsServerAccount(PostgresBinaries.Find().Tool("pg_ctl"), ["-D", etc, "-l", pg1.LogFile, "-w", "-t", "60", "start"]);
        var start = string.Join(' ', [program, .. arguments]);
        await ExternalShellAsync(start);
        await pair.WaitForStreamingAsync();

        // Only pg1 gets these: the standby's stream is cut first.
        pair.ReplicationRelay!.Cut();
        for (var i = 0; i < LostCommits; i++)
        {
            await pg1.ExecuteAsync(string.Create(CultureInfo.InvariantCulture, $"INSERT INTO lost_rows VALUES ({i})"), CancellationToken.None);
        }

        await pg1.SignalAsync("KILL", CancellationToken.None);
        await Wait.UntilAsync(() => pg1.PostmasterPid is null, TimeSpan.FromSeconds(30), "pg1's postmaster gone");
        await PromoteAsync(pg2);
        await pg2.ExecuteAsync("INSERT INTO lost_rows VALUES (-1)", CancellationToken.None);
        AddPreallocatedSegments(pg1);

        Task<(int ExitCode, string Output)> RejoinPg1Async(string salvageDirectory, string startCommand) => MonitorProcess.RunCliAsync(
            "rejoin", "--pgdata", pg1.DataDirectory, "--node", "pg1", "--config-file", configFile, "--start-command", startCommand, "--salvage-dir", salvageDirectory,
            "--stream-timeout", "60s", "--source", string.Create(CultureInfo.InvariantCulture, $"host=127.0.0.1 port={pg2.Port} user=postgres dbname=postgres"));

        // A salvage that cannot be written stops the rejoin before anything is rewound.
        var before = Snapshot(pg1);
        var (refused, refusal) = await RejoinPg1Async("/dev/null/salvage", start);
        Assert.Equal(1, refused);
        Assert.Contains("so nothing was rewound", refusal, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(pg1));

        // Killed once pg_rewind has done its work (by its start command here, as monitor.rejoin_timeout kills a rejoin): the
        // rewind's marker is gone, and the next rejoin puts the node's own configuration back and starts it, not refusing a
        // node already on the source's timeline.
        var killedOnce = Path.Combine(Path.GetDirectoryName(pg1.DataDirectory)!, "killed-once");
        var (killed, progress) = await RejoinPg1Async(salvage.Path, $"test -e {killedOnce} || {{ touch {killedOnce}; kill -9 $PPID; exit 1; }}; {start}");
        Assert.True(killed != 0 && File.Exists(killedOnce), progress);
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(pg1.DataDirectory)!, "data.rewind-in-progress")));
        var (exitCode, output) = await RejoinPg1Async(salvage.Path, start);

        Assert.True(exitCode == 0, output + await ServerLogAsync(pg1));
        Assert.Contains("by a rejoin that did not finish", output, StringComparison.Ordinal);
        Assert.False(LastJsonLine(output).GetProperty("rewound").GetBoolean());
        var saved = System.Text.RegularExpressions.Regex.Match(progress, @"saved (\d+) commits past the fork to (\S+)");
        Assert.True(saved.Success && int.Parse(saved.Groups[1].Value, CultureInfo.InvariantCulture) >= LostCommits, progress);
        var folder = saved.Groups[2].Value;
        Assert.StartsWith(salvage.Path, folder, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, "wal", "00000002.history")));
        Assert.Contains(Directory.GetFiles(Path.Combine(folder, "wal")), f => Path.GetFileName(f).StartsWith("00000001", StringComparison.Ordinal));
        var summary = await File.ReadAllTextAsync(Path.Combine(folder, "summary.txt"));
        Assert.Contains("commits past the fork", summary, StringComparison.Ordinal);
        Assert.Contains("postgres.public.lost_rows", summary, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Path.GetDirectoryName(pg1.DataDirectory)!, "data.rejoin-config")));

        await AssertStreamsAsync(pg1, pg2);
        await Wait.UntilAsync(
            async () => await pg1.QueryScalarAsync<long>("SELECT count(*) FROM lost_rows", CancellationToken.None) == 1,
            TimeSpan.FromSeconds(30),
            "pg1 holds only the new primary's row");
        Assert.Equal(configFile, await pg1.QueryScalarAsync<string>("SHOW config_file", CancellationToken.None));
        Assert.Equal("7MB", await pg1.QueryScalarAsync<string>("SHOW work_mem", CancellationToken.None));
        Assert.Equal(hba, await File.ReadAllTextAsync(Path.Combine(etc, "pg_hba.conf")));
        Assert.False(File.Exists(Path.Combine(pg1.DataDirectory, "postgresql.conf")));
    }

    /// <summary>
    /// Zero-filled segments past the end of the WAL, as the server preallocates after a write burst: a pg_waldump
    /// left to find the segment size itself reads whichever the directory lists first (seen in bench/heal-bench.sh).
    /// </summary>
    private static void AddPreallocatedSegments(LocalPostgresServer node)
    {
        var wal = Path.Combine(node.DataDirectory, "pg_wal");
        var last = Directory.GetFiles(wal, "00000001*").Select(Path.GetFileName).Where(n => n!.Length == 24).Max()!;
        var number = long.Parse(last[16..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        for (var i = 1; i <= 4; i++)
        {
            var path = Path.Combine(wal, string.Create(CultureInfo.InvariantCulture, $"{last[..16]}{number + i:X8}"));
            using (var segment = File.Create(path))
            {
                segment.SetLength(16 * 1024 * 1024);
            }

            OsUser.GiveToServerAccount(path);
        }
    }

    [Fact]
    public async Task a_node_pg_rewind_cannot_fix_is_left_untouched_without_allow_reclone_and_recloned_with_it_keeping_one_aside_copy()
    {
        await using var pair = await PostgresPair.StartAsync(relayReplication: true);
        using var salvage = new TempDirectory();
        var (pg1, pg2) = (pair.Primary, pair.Standby);
        await pg1.ExecuteAsync("CREATE TABLE lost_rows (id int)", CancellationToken.None);

        // The last checkpoint before the fork sits in a segment of its own; pg_rewind reads back to it on pg1.
        await pg1.ExecuteAsync("CHECKPOINT", CancellationToken.None);
        var checkpointSegment = await pg1.QueryScalarAsync<string>("SELECT pg_walfile_name(pg_current_wal_lsn())", CancellationToken.None);
        await pg1.ExecuteAsync("SELECT pg_switch_wal()", CancellationToken.None);
        await WaitForReplayAsync(pg1, pg2);
        pair.ReplicationRelay!.Cut();
        for (var i = 0; i < 5; i++)
        {
            await pg1.ExecuteAsync(string.Create(CultureInfo.InvariantCulture, $"INSERT INTO lost_rows VALUES ({i})"), CancellationToken.None);
        }

        // pg2 first, then the relay resets pg1's walsender, so pg1 shuts down cleanly without waiting on it.
        await PromoteAsync(pg2);
        await pg2.ExecuteAsync("INSERT INTO lost_rows VALUES (-1)", CancellationToken.None);
        pair.ReplicationRelay.Restore();
        await pg1.StopAsync(CancellationToken.None);

        // What an isolated old primary that checkpointed on its own does: the segment is recycled.
        File.Delete(Path.Combine(pg1.DataDirectory, "pg_wal", checkpointSegment));
        var parent = Path.GetDirectoryName(pg1.DataDirectory)!;
        var older = Path.Combine(parent, "data" + DataDirectoryReclone.AsideInfix + "20000101T000000Z");
        Directory.CreateDirectory(older);
        await File.WriteAllTextAsync(Path.Combine(older, "PG_VERSION"), "15\n");

        var before = Snapshot(pg1);
        var (exitCode, output) = await RejoinAsync(pg1, pg2, "--salvage-dir", salvage.Path);
        Assert.Equal(1, exitCode);
        Assert.Contains("pg_rewind failed before it changed anything", output, StringComparison.Ordinal);
        Assert.Contains("--allow-reclone", output, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(pg1));
        Assert.True(Directory.Exists(older));

        (exitCode, output) = await RejoinAsync(pg1, pg2, "--salvage-dir", salvage.Path, "--allow-reclone");
        Assert.True(exitCode == 0, output + await ServerLogAsync(pg1));
        var outcome = LastJsonLine(output);
        Assert.False(outcome.GetProperty("rewound").GetBoolean());
        Assert.True(outcome.GetProperty("salvage").GetProperty("commits").GetInt32() >= 5, output);
        var aside = outcome.GetProperty("moved_aside").GetString()!;
        Assert.True(File.Exists(Path.Combine(aside, "global", "pg_control")), aside);
        Assert.Equal([aside], Directory.GetDirectories(parent, "data" + DataDirectoryReclone.AsideInfix + "*"));
        await AssertStreamsAsync(pg1, pg2);
        await Wait.UntilAsync(
            async () => await pg1.QueryScalarAsync<long>("SELECT count(*) FROM lost_rows", CancellationToken.None) == 1,
            TimeSpan.FromSeconds(30),
            "pg1 holds only the new primary's row");
    }

    private static async Task ExternalShellAsync(string commandLine)
    {
        var result = await FailoverWatch.Processes.ExternalProcess.RunShellAsync(commandLine, TimeSpan.FromSeconds(90), CancellationToken.None);
        Assert.True(result.Succeeded, result.StandardError + result.StandardOutput);
    }

    internal static Task<(int ExitCode, string Output)> RejoinAsync(LocalPostgresServer node, LocalPostgresServer source, params string[] more) =>
        MonitorProcess.RunCliAsync(
        [
            "rejoin", "--pgdata", node.DataDirectory, "--node", node.Name,
            "--source", string.Create(CultureInfo.InvariantCulture, $"host=127.0.0.1 port={source.Port} user=postgres dbname=postgres"),
            "--start-command", node.StartCommandLine(), "--stream-timeout", "60s", .. more,
        ]);

    internal static async Task PromoteAsync(LocalPostgresServer standby)
    {
        Assert.True(await standby.QueryScalarAsync<bool>("SELECT pg_promote(true, 60)", CancellationToken.None));
    }

    internal static JsonElement LastJsonLine(string output) =>
        JsonDocument.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('{'))).RootElement;

    internal static async Task AssertStreamsAsync(LocalPostgresServer standby, LocalPostgresServer primary)
    {
        Assert.True(await standby.QueryScalarAsync<bool>("SELECT pg_is_in_recovery()", CancellationToken.None));
        await Wait.UntilAsync(
            async () => await primary.QueryScalarAsync<long>($"SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND application_name = '{standby.Name}'", CancellationToken.None) == 1,
            TimeSpan.FromSeconds(30),
            $"{standby.Name} streaming from {primary.Name}");
    }

    private static Task WaitForReplayAsync(LocalPostgresServer primary, LocalPostgresServer standby) =>
        Wait.UntilAsync(
            async () => await standby.QueryScalarAsync<bool>(
                $"SELECT pg_last_wal_replay_lsn() >= '{await primary.QueryScalarAsync<string>("SELECT pg_current_wal_lsn()::text", CancellationToken.None)}'::pg_lsn",
                CancellationToken.None),
            TimeSpan.FromSeconds(30),
            "standby replayed the primary's WAL");

    private static async Task<string> ServerLogAsync(LocalPostgresServer server) =>
        File.Exists(server.LogFile) ? "\nserver log:\n" + await File.ReadAllTextAsync(server.LogFile) : "";

    /// <summary>Every file of a data directory with its size and time of change: "nothing touched" made checkable.</summary>
    private static string Snapshot(LocalPostgresServer server) =>
        string.Join('\n', Directory.GetFiles(server.DataDirectory, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith("postmaster.pid", StringComparison.Ordinal) && !f.Contains("pg_stat_tmp", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => new FileInfo(f))
            .Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.FullName} {f.Length} {f.LastWriteTimeUtc.Ticks}")))
        + (File.Exists(Path.Combine(Path.GetDirectoryName(server.DataDirectory)!, "data.rewind-in-progress")) ? "\nmarker" : "");
}
