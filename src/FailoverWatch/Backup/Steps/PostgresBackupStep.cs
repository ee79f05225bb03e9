using FailoverWatch.Configuration;
using FailoverWatch.LocalServers;
using FailoverWatch.Monitoring;
using FailoverWatch.Storage;
using Npgsql;
using FailoverWatch.Backup.Store;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Backup.Steps;

/// <summary>
/// <c>pg_dumpall</c> from a standby (or the primary when no standby is up, or when <c>from: primary</c>), its stdout
/// streamed through compression and SHA-256 into the file in one pass: never held in memory. The password reaches
/// pg_dumpall as PGPASSWORD in its environment, never on its command line (which every user can read in /proc).
/// </summary>
internal sealed class PostgresBackupStep(PostgresBackupOptions options, IReadOnlyList<NodeOptions> nodes, bool rsyncable = false) : IBackupStep
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public string Kind => BackupKinds.Postgres;

    public async Task<StepOutcome> RunAsync(BackupStepContext context, CancellationToken cancellationToken)
    {
        var choice = await ChooseNodeAsync(cancellationToken);
        var (node, role, version) = (choice.Source.Node, choice.Source.Role!, choice.Source.Version!);
        var connection = NodeConnectionStrings.For(node, options.User, options.PasswordFile);
        Directory.CreateDirectory(context.KindDirectory);
        var fileName = DumpCompression.FileName(options.Compression);
        var target = Path.Combine(context.KindDirectory, fileName);
        var (sha, size, uncompressed, databases) = await DumpAsync(connection, target, cancellationToken);
        var entry = new ManifestEntry
        {
            Path = $"{Kind}/{fileName}", Type = ManifestEntry.FileType, Size = size, Mode = ManifestEntry.FormatMode(DurableFiles.OwnerOnly),
            Mtime = File.GetLastWriteTimeUtc(target), Sha256 = sha,
        };
        var info = new PostgresDumpInfo
        {
            Node = node.Name, Role = role, ServerVersion = version, DumpFile = entry.Path, Compression = options.Compression,
            UncompressedBytes = uncompressed, Databases = databases, StandbyDelaySeconds = choice.StandbyDelay?.TotalSeconds, InsteadOfStandby = choice.InsteadOf,
        };
        var instead = choice.InsteadOf is { } why ? $" instead of a standby: {why}" : "";
        return new StepOutcome([entry], size, 1) { Postgres = info, Note = $"postgres: dumped from {node.Name} ({role}, PostgreSQL {version}){instead}", NoteIsWarning = choice.InsteadOf is not null };
    }

    /// <summary>
    /// A standby by default so the dump does not load the primary, but only one within <c>max_standby_delay</c> of the
    /// primary (<see cref="DumpSourceChoice"/>). Asked with the dump's own credentials (a node the monitor reaches may still
    /// refuse the dump user), all nodes at once; a standby that looks behind is asked again after the primary answered, so
    /// WAL written between the two questions does not count as delay.
    /// </summary>
    private async Task<DumpSourceChoice.Choice> ChooseNodeAsync(CancellationToken cancellationToken)
    {
        var answers = await Task.WhenAll(nodes.Select(node => AskAsync(node, cancellationToken)));
        if (answers.FirstOrDefault(a => a.Role == "primary") is { } primary)
        {
            answers = await Task.WhenAll(answers.Select(a => a.Role == "standby" && a.Lsn < primary.Lsn ? AskAsync(a.Node, cancellationToken) : Task.FromResult(a)));
        }

        return DumpSourceChoice.Choose(answers, options.From, options.MaxStandbyDelay);
    }

    private async Task<NodeAnswer> AskAsync(NodeOptions node, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ProbeTimeout);
            await using var dataSource = NodeConnectionStrings.WithoutTypeLoading(NodeConnectionStrings.For(node, options.User, options.PasswordFile));
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
            await using var command = new NpgsqlCommand(PositionQuery, connection);
            command.Parameters.AddWithValue("max", options.MaxStandbyDelay);
            await using var reader = await command.ExecuteReaderAsync(timeout.Token);
            await reader.ReadAsync(timeout.Token);
            return new NodeAnswer(node, reader.GetBoolean(0) ? "standby" : "primary", reader.GetString(1), null)
            {
                Lsn = reader.IsDBNull(2) ? 0 : reader.GetInt64(2),
                LastReplay = reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
                Now = reader.GetFieldValue<DateTimeOffset>(4),
                ReceiverCurrent = reader.GetBoolean(5),
            };
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return new NodeAnswer(node, null, null, e.Message);
        }
    }

    // One round trip: role, version, the position to compare (primary: written; standby: replayed), the standby's last
    // replayed commit time and whether its WAL receiver is current (streaming, heard within the limit, all received replayed).
    private const string PositionQuery = """
        SELECT pg_is_in_recovery(), current_setting('server_version'),
               pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, '0/0')::bigint,
               pg_last_xact_replay_timestamp(), now(),
               coalesce((SELECT status = 'streaming' AND last_msg_receipt_time > now() - @max FROM pg_stat_wal_receiver)
                        AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), false)
        """;

    private async Task<(string Sha256, long Size, long Uncompressed, List<DatabaseRowCounts> Databases)> DumpAsync(NpgsqlConnectionStringBuilder connection, string target, CancellationToken cancellationToken)
    {
        var program = options.PgDumpall ?? PgDumpallOnMachine();
        string[] arguments = ["-h", connection.Host!, "-p", connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", connection.Username!, "-l", connection.Database!, "-w"];
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["PGAPPNAME"] = "failoverwatch-backup",
            ["PGCONNECT_TIMEOUT"] = "10",
        };
        if (connection.Password is { } password)
        {
            environment["PGPASSWORD"] = password;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        using var process = StreamingProcess.Start(program, arguments, environment, writeStdin: false);
        long uncompressed;
        DumpRowCounter rows;
        string sha;
        long size;
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = DurableFiles.OwnerOnly, BufferSize = 1 << 16 };
        await using (var file = new FileStream(target, fileOptions))
        {
            await using (var hashing = new HashingWriteStream(file))
            {
                await using (var compressor = DumpCompression.Compress(hashing, options.Compression, options.CompressionLevel, rsyncable))
                {
                    rows = new DumpRowCounter(compressor);
                    var counting = new CountingReadStream(process.Output);
                    process.GrowOutputPipe(1 << 20);
                    // Cancel or timeout kills pg_dumpall; its pipe then ends and the copy loop returns.
                    await using (timeout.Token.Register(process.Kill))
                    {
                        // Blocking reads on a thread of its own: the pipe is the hot path, and sync reads of a 1 MB pipe beat
                        // an async hop through the thread pool per 64 kB (measured with bench/backup-bench.sh).
                        await Task.Factory.StartNew(() => FileHashing.CopySync(counting, rows), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                    }

                    if (timeout.IsCancellationRequested)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        throw new TimeoutException($"pg_dumpall did not finish within {Duration.Format(options.Timeout)}");
                    }

                    uncompressed = counting.BytesRead;
                }

                sha = hashing.HashHex();
                size = hashing.BytesWritten;
            }

            file.Flush(flushToDisk: true);
        }

        var exit = await process.WaitAsync(timeout.Token);
        var errors = process.Stderr.Split('\n').Where(IsErrorLine).ToList();
        if (exit != 0)
        {
            throw new InvalidOperationException($"pg_dumpall exited with {Describe(exit)}{(errors.Count > 0 ? ": " + errors[0].Trim() : "")} after {uncompressed} bytes");
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"pg_dumpall reported an error: {errors[0].Trim()}");
        }

        return (sha, size, uncompressed, [.. rows.Databases]);
    }

    private static string Describe(int exit) => exit > 128 ? $"status {exit} (killed by signal {exit - 128})" : $"status {exit}";

    // pg_dumpall and the pg_dump it runs write "pg_dump: error: ..."; the server's own words come as "FATAL:" / "ERROR:".
    private static bool IsErrorLine(string line) =>
        line.Contains("error:", StringComparison.OrdinalIgnoreCase) || line.Contains("FATAL:", StringComparison.Ordinal);

    private static string PgDumpallOnMachine()
    {
        try
        {
            return PostgresBinaries.Find().Tool("pg_dumpall");
        }
        catch (InvalidOperationException)
        {
            return "pg_dumpall";
        }
    }
}
