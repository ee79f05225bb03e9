using System.Text.Json;
using FailoverWatch.LocalServers;
using FailoverWatch.Monitoring;
using FailoverWatch.Processes;
using FailoverWatch.State;

namespace FailoverWatch.Rejoin;

/// <summary>
/// Makes a node a streaming standby of a newer primary, on the node's own host: checks that this is the right
/// direction before touching anything, saves the WAL only this node has, rewinds only when it diverged, and starts
/// it with its own configuration. Progress goes to <paramref name="progress"/>, one line a step.
/// </summary>
internal sealed class NodeRejoiner(RejoinRequest request, PostgresBinaries binaries, TextWriter progress, TimeProvider time)
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Files pg_rewind copies from the source that describe the node itself.</summary>
    private static readonly string[] OwnConfigFiles = ["postgresql.conf", "postgresql.auto.conf", "pg_hba.conf", "pg_ident.conf"];

    private readonly string _pgdata = Path.GetFullPath(request.DataDirectory);

    private string Parent => Path.GetDirectoryName(_pgdata.TrimEnd('/'))!;

    private string BaseName => Path.GetFileName(_pgdata.TrimEnd('/'));

    /// <summary>Left while pg_rewind runs: a directory it did not finish must not be started.</summary>
    public string RewindMarker => Path.Combine(Parent, BaseName + ".rewind-in-progress");

    /// <summary>
    /// The node's own configuration files, kept until it streams: a rejoin killed after pg_rewind replaced them with
    /// the source's (<c>monitor.rejoin_timeout</c>) puts them back at its next run.
    /// </summary>
    private string KeptConfig => Path.Combine(Parent, BaseName + ".rejoin-config");

    public async Task<RejoinOutcome> RunAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        if (!File.Exists(Path.Combine(_pgdata, "global", "pg_control")))
        {
            throw new RejoinRefusedException($"{_pgdata} is not a PostgreSQL data directory: give the node's PGDATA with --pgdata.");
        }

        using var lockHandle = StateFileLock.TryAcquire(Path.Combine(Parent, BaseName + ".rejoin"), out var holder)
            ?? throw new RejoinRefusedException($"another rejoin of {_pgdata} runs ({holder}): let it finish.");
        if (RewindRun.RunningPid(RewindMarker) is { } pid)
        {
            throw new RejoinRefusedException(
                $"a pg_rewind of {_pgdata} (pid {pid}) is still running: nothing was touched; let it finish (the host tries again after monitor.rejoin_retry), then run rejoin again.");
        }

        if (File.Exists(RewindMarker))
        {
            throw new RejoinRefusedException(
                $"a pg_rewind of {_pgdata} did not finish ({RewindMarker} is there), so the directory may be unusable: take a fresh base backup of the primary into it, then remove {RewindMarker}.");
        }

        var local = await ControlDataAsync(cancellationToken);
        if (!local.Checksums && !local.WalLogHints)
        {
            throw new RejoinRefusedException(
                $"{_pgdata} has neither data checksums nor wal_log_hints, which pg_rewind needs: set wal_log_hints = on (restart) on every node, and rebuild this one from a base backup of the primary.");
        }

        var running = await IsRunningAsync(cancellationToken);
        if (running && local.IsPrimaryState)
        {
            throw new RejoinRefusedException($"{_pgdata} is a running primary: nothing was touched; fence (stop) it first if another node is the primary now.");
        }

        var source = new RejoinSource(request.Source);
        var branch = await CheckSourceAsync(source, local, cancellationToken);
        progress.WriteLine(branch is { } left
            ? $"source is the primary on timeline {left.History.Timeline}; this node left at {left.Fork} from timeline {local.Timeline}"
            : $"this node was rewound to the source's timeline {local.Timeline} by a rejoin that did not finish; its own configuration goes back");

        if (running)
        {
            progress.WriteLine("stopping the local server");
            await RunCommandOrToolAsync(request.StopCommand, "pg_ctl", ["-D", _pgdata, "-m", "fast", "-w", "-t", "300", "stop"], "stop", cancellationToken);
            local = await ControlDataAsync(cancellationToken);
        }

        var salvage = branch is { } diverged
            ? await new WalSalvage(binaries, _pgdata, request.Node, request.SalvageDirectory, time)
                .SaveAsync(local.Timeline, diverged.Fork, diverged.History.Bytes, diverged.History.Timeline, source, cancellationToken)
            : null;
        var kept = await KeepConfigFilesAsync(resumed: branch is null, cancellationToken);
        string? movedAside = null;
        if (salvage is not null)
        {
            progress.WriteLine($"saved {salvage.Commits} commits past the fork to {salvage.Dir}");
            if (await RewindAsync(cancellationToken) is { } failure)
            {
                movedAside = await RecloneAsync(failure, source, cancellationToken);
            }
        }

        await RestoreConfigFilesAsync(kept, cancellationToken);
        await StartAsync(cancellationToken);
        await WaitForStreamingAsync(source, cancellationToken);
        Directory.Delete(KeptConfig, recursive: true);
        return new RejoinOutcome(request.Node, salvage is not null && movedAside is null, Math.Round(time.GetElapsedTime(started).TotalSeconds, 1), salvage, movedAside);
    }

    /// <summary>Only where the person running rejoin allowed it; the salvage has run by then, and the old directory is kept aside.</summary>
    private async Task<string> RecloneAsync(string rewindFailure, RejoinSource source, CancellationToken cancellationToken)
    {
        if (!request.AllowReclone)
        {
            throw new RejoinRefusedException(rewindFailure + " Or run rejoin --allow-reclone to move the data directory aside and take a fresh base backup of the source.");
        }

        progress.WriteLine($"pg_rewind could not fix the node, so it is recloned: {rewindFailure}");
        var aside = await new DataDirectoryReclone(_pgdata, binaries, progress, time).RunAsync(source, request.Source, cancellationToken);

        // The marker of a rewind that stopped half-way belongs to the directory now aside.
        File.Delete(RewindMarker);
        return aside;
    }

    public static string ToJson(RejoinOutcome outcome) => JsonSerializer.Serialize(outcome, RejoinJsonContext.Default.RejoinOutcome);

    /// <returns>Where this node left the source's history; null when a rejoin that did not finish rewound it already.</returns>
    private async Task<(Lsn Fork, (int Timeline, byte[] Bytes) History)?> CheckSourceAsync(RejoinSource source, ControlData local, CancellationToken cancellationToken)
    {
        RejoinSource.Facts facts;
        try
        {
            facts = await source.ReadAsync(cancellationToken);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            throw new RejoinRefusedException($"the source does not answer ({e.Message}): nothing was touched; check --source and that the new primary runs, then run rejoin again.");
        }

        if (!facts.IsPrimary)
        {
            throw new RejoinRefusedException("the source is a standby, not a primary: nothing was touched; point --source at the current primary.");
        }

        if (facts.SystemIdentifier != local.SystemIdentifier)
        {
            throw new RejoinRefusedException(
                $"the source belongs to another cluster (system identifier {facts.SystemIdentifier}, this node {local.SystemIdentifier}): nothing was touched; point --source at this cluster's primary.");
        }

        // Only pg_rewind brings this node onto the source's timeline while its rejoin keeps its configuration aside.
        if (facts.Timeline == local.Timeline && Directory.Exists(KeptConfig))
        {
            return null;
        }

        if (facts.Timeline <= local.Timeline)
        {
            throw new RejoinRefusedException(
                $"the source is on timeline {facts.Timeline} and this node on {local.Timeline}: the source is not a primary that replaced this node, so nothing was touched; point --source at the newer primary.");
        }

        var (text, bytes) = await source.HistoryFileAsync(facts.Timeline, cancellationToken);
        var fork = TimelineHistory.ForkPoint(TimelineHistory.Parse(text), local.Timeline)
            ?? throw new RejoinRefusedException(
                $"timeline {local.Timeline} of this node is not in the source's history: they are different branches, so nothing was touched; rebuild this node from a base backup of the primary.");
        if (facts.CheckpointTimeline < facts.Timeline)
        {
            try
            {
                await source.CheckpointAsync(cancellationToken);
            }
            catch (Npgsql.PostgresException e)
            {
                throw new RejoinRefusedException($"the source has not checkpointed since its promotion and CHECKPOINT failed ({e.MessageText}): run CHECKPOINT on it (or grant pg_checkpoint), then run rejoin again.");
            }
        }

        return (fork, (facts.Timeline, bytes));
    }

    private async Task<ControlData> ControlDataAsync(CancellationToken cancellationToken)
    {
        var result = await RunToolAsync("pg_controldata", ["-D", _pgdata], ToolTimeout, cancellationToken);
        return result.Succeeded
            ? ControlData.Parse(result.StandardOutput)
            : throw new RejoinRefusedException($"pg_controldata could not read {_pgdata} ({result.Describe()}): run rejoin as the PostgreSQL OS user.");
    }

    private async Task<bool> IsRunningAsync(CancellationToken cancellationToken) =>
        (await RunToolAsync("pg_ctl", ["-D", _pgdata, "status"], ToolTimeout, cancellationToken)).ExitCode == 0;

    /// <summary>
    /// pg_rewind with no time limit and no cancellation, in a session of its own under <see cref="RewindRun"/>: stopped
    /// half-way it leaves a directory that cannot start, so not even a killed rejoin takes it down, and a rewind that
    /// finishes after its rejoin was killed still removes the marker.
    /// </summary>
    /// <returns>Null when rewound, else the sentence saying why pg_rewind could not fix the node and what to do.</returns>
    private async Task<string?> RewindAsync(CancellationToken cancellationToken)
    {
        List<string> arguments = ["--target-pgdata", _pgdata, "--source-server", request.Source.ToString()];
        if (request.ConfigFile is not null)
        {
            arguments.Add("--config-file=" + request.ConfigFile);
        }

        if (await HasRestoreCommandAsync(cancellationToken))
        {
            arguments.Add("--restore-target-wal");
        }

        progress.WriteLine("running pg_rewind");
        var (program, programArguments) = OsUser.AsServerAccount(binaries.Tool("pg_rewind"), arguments);
        var result = await RunAsync(
            "/bin/sh", RewindRun.ShellArguments(RewindMarker, Path.Combine(Parent, BaseName + ".rewind.log"), time.GetUtcNow(), program, programArguments), Timeout.InfiniteTimeSpan, CancellationToken.None);
        var output = result.StandardError + result.StandardOutput;
        if (!result.Succeeded && output.Contains("rewinding from last common checkpoint", StringComparison.Ordinal))
        {
            return $"pg_rewind failed half-way ({result.Describe()}), so {_pgdata} cannot be started: take a fresh base backup of the primary into it, then remove {RewindMarker}.";
        }

        File.Delete(RewindMarker);
        return result.Succeeded
            ? null
            : $"pg_rewind failed before it changed anything ({result.Describe()}): check that the source user has superuser or EXECUTE on pg_ls_dir, pg_stat_file and pg_read_binary_file and that the WAL since the fork is still on the source and on this node, then run rejoin again.";
    }

    private async Task<bool> HasRestoreCommandAsync(CancellationToken cancellationToken)
    {
        List<string> arguments = ["-D", _pgdata, "-C", "restore_command"];
        if (request.ConfigFile is not null)
        {
            arguments.AddRange(["-c", "config_file=" + request.ConfigFile]);
        }

        var result = await RunToolAsync("postgres", arguments, ToolTimeout, cancellationToken);
        return result.Succeeded && result.StandardOutput.Trim().Length > 0;
    }

    /// <summary>
    /// The node's own files: read from <see cref="KeptConfig"/> when a rejoin that rewound this node kept them there,
    /// else read from PGDATA (pg_rewind has not replaced them: any copy kept by a rejoin that failed earlier is stale,
    /// and an operator may have changed them since) and kept there now.
    /// </summary>
    private async Task<Dictionary<string, byte[]>> KeepConfigFilesAsync(bool resumed, CancellationToken cancellationToken)
    {
        if (resumed)
        {
            return Directory.GetFiles(KeptConfig).ToDictionary(path => Path.Combine(_pgdata, Path.GetFileName(path)), File.ReadAllBytes);
        }

        var kept = OwnConfigFiles.Select(name => Path.Combine(_pgdata, name)).Where(File.Exists).ToDictionary(path => path, File.ReadAllBytes);
        var writing = KeptConfig + ".new";
        foreach (var stale in new[] { writing, KeptConfig }.Where(Directory.Exists))
        {
            Directory.Delete(stale, recursive: true);
        }

        Directory.CreateDirectory(writing);
        foreach (var (path, bytes) in kept)
        {
            await File.WriteAllBytesAsync(Path.Combine(writing, Path.GetFileName(path)), bytes, cancellationToken);
        }

        // Whole or not at all: a half-written copy would lose the files missing from it.
        Directory.Move(writing, KeptConfig);
        return kept;
    }

    /// <summary>
    /// Puts back the node's own configuration, which pg_rewind replaced with the source's (its port, its
    /// <c>synchronous_standby_names</c>), leaving out what only a primary or the old upstream should have; then
    /// names the new upstream and makes the node a standby.
    /// </summary>
    private async Task RestoreConfigFilesAsync(Dictionary<string, byte[]> kept, CancellationToken cancellationToken)
    {
        // With the configuration outside PGDATA (Debian), what pg_rewind brought in was never the node's.
        foreach (var copied in OwnConfigFiles.Select(name => Path.Combine(_pgdata, name)).Where(path => !kept.ContainsKey(path) && path != Path.Combine(_pgdata, "postgresql.auto.conf")))
        {
            File.Delete(copied);
        }

        foreach (var (path, bytes) in kept)
        {
            var lines = System.Text.Encoding.UTF8.GetString(bytes).Split('\n')
                .Where(line => !IsSetting(line, "synchronous_standby_names") && !IsSetting(line, "primary_conninfo"));
            await File.WriteAllTextAsync(path, string.Join('\n', lines), cancellationToken);
        }

        var conninfo = (request.PrimaryConninfo ?? request.Source).With("application_name", request.Node).ToString();
        var auto = Path.Combine(_pgdata, "postgresql.auto.conf");
        await File.AppendAllTextAsync(auto, $"\nprimary_conninfo = '{conninfo.Replace("'", "''", StringComparison.Ordinal)}'\n", cancellationToken);
        var signal = Path.Combine(_pgdata, "standby.signal");
        await File.WriteAllTextAsync(signal, "", cancellationToken);
        File.Delete(Path.Combine(_pgdata, "recovery.signal"));
        foreach (var path in kept.Keys.Append(auto).Append(signal).Distinct())
        {
            OsUser.GiveToServerAccount(path);
        }
    }

    private static bool IsSetting(string line, string name) =>
        line.TrimStart().StartsWith(name, StringComparison.OrdinalIgnoreCase)
        && line.TrimStart()[name.Length..].TrimStart() is var rest && (rest.StartsWith('=') || rest.StartsWith('\''));

    private Task StartAsync(CancellationToken cancellationToken)
    {
        progress.WriteLine("starting the server as a standby");
        List<string> arguments = ["-D", _pgdata, "-l", Path.Combine(Parent, BaseName + ".rejoin.log"), "-w", "-t", "300", "start"];
        if (request.ConfigFile is not null)
        {
            arguments.InsertRange(0, ["-o", "-c config_file=" + request.ConfigFile]);
        }

        return RunCommandOrToolAsync(request.StartCommand, "pg_ctl", arguments, "start", cancellationToken);
    }

    private async Task WaitForStreamingAsync(RejoinSource source, CancellationToken cancellationToken)
    {
        var waitStarted = time.GetTimestamp();
        while (true)
        {
            try
            {
                if (await source.StreamsToAsync(request.Node, cancellationToken))
                {
                    return;
                }
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
            {
                // The new primary may be busy or restarting; the deadline decides.
            }

            if (time.GetElapsedTime(waitStarted) > request.StreamTimeout)
            {
                throw new RejoinRefusedException(
                    $"the node runs as a standby but does not stream from the source after {request.StreamTimeout.TotalSeconds:0} s: read its server log (primary_conninfo, pg_hba.conf on the source, the REPLICATION grant), then run rejoin again.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), time, cancellationToken);
        }
    }

    private async Task RunCommandOrToolAsync(string? commandLine, string tool, IEnumerable<string> arguments, string what, CancellationToken cancellationToken)
    {
        var result = commandLine is not null
            ? await ExternalProcess.RunShellAsync(commandLine, ToolTimeout, cancellationToken)
            : await RunToolAsync(tool, arguments, ToolTimeout, cancellationToken);
        if (!result.Succeeded)
        {
            throw new RejoinRefusedException($"the {what} of the local server failed ({result.Describe()}): see its log, fix it and run rejoin again.");
        }
    }

    private Task<ProcessResult> RunToolAsync(string tool, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (fileName, args) = OsUser.AsServerAccount(binaries.Tool(tool), arguments);
        return RunAsync(fileName, args, timeout, cancellationToken);
    }

    private Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken) =>
        ExternalProcess.RunAsync(fileName, arguments, timeout, cancellationToken, new Dictionary<string, string> { ["TZ"] = "UTC" }, workingDirectory: Parent);
}
