using FailoverWatch.Configuration;
using StackExchange.Redis;
using FailoverWatch.Backup.Store;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Backup.Steps;

/// <summary>
/// BGSAVE, wait until LASTSAVE moves past the value it had before, copy <c>rdb_path</c>. Redis writes the rdb to a
/// temporary file and renames it, so the copy is always of a whole dump. When Redis cannot be reached the file on disk
/// is still the best copy there is: it is taken, and the manifest says it is not fresh.
/// </summary>
internal sealed class RedisBackupStep(RedisBackupOptions options, TimeProvider timeProvider) : IBackupStep
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(100);

    public string Kind => BackupKinds.Redis;

    public async Task<StepOutcome> RunAsync(BackupStepContext context, CancellationToken cancellationToken)
    {
        var (connection, problem) = await TryConnectAsync();
        RedisDumpInfo? saved = null;
        if (connection is not null)
        {
            await using (connection)
            {
                saved = await SaveAsync(connection.GetServer(options.Host, options.Port), cancellationToken);
            }
        }

        if (!File.Exists(options.RdbPath))
        {
            throw new FileNotFoundException($"{options.RdbPath} does not exist{(saved is not null ? " after BGSAVE: is rdb_path the server's dir/dbfilename?" : "")}");
        }

        Directory.CreateDirectory(context.KindDirectory);
        var source = new FileInfo(options.RdbPath);
        var info = saved ?? AsFound(source, problem!);
        var target = Path.Combine(context.KindDirectory, "dump.rdb");
        var mode = source.UnixFileMode;
        var (sha, size) = await FileHashing.CopyAsync(source.FullName, target, mode, cancellationToken);
        File.SetUnixFileMode(target, mode);
        File.SetLastWriteTimeUtc(target, source.LastWriteTimeUtc);
        var entry = new ManifestEntry
        {
            Path = $"{Kind}/dump.rdb", Type = ManifestEntry.FileType, Size = size, Mode = ManifestEntry.FormatMode(mode), Mtime = source.LastWriteTimeUtc, Sha256 = sha,
        }.OwnedAs(source.FullName);
        return new StepOutcome([entry], size, 1) { Redis = info, Note = info.Note, NoteIsWarning = !info.FreshSave };
    }

    /// <summary>The file as Redis last wrote it: its age goes in the manifest and the log, and is the kind's last-success time.</summary>
    private RedisDumpInfo AsFound(FileInfo source, string problem)
    {
        var written = new DateTimeOffset(source.LastWriteTimeUtc, TimeSpan.Zero);
        var age = timeProvider.GetUtcNow() - written;
        return new RedisDumpInfo
        {
            FreshSave = false,
            FileWrittenAt = written,
            FileAgeSeconds = Math.Round(age.TotalSeconds),
            Note = $"redis at {options.Host}:{options.Port} {problem}: copied the existing {options.RdbPath} as it was on disk, written {Duration.Human(age)} ago ({written:yyyy-MM-dd HH:mm:ss}Z)",
        };
    }

    private async Task<(ConnectionMultiplexer? Connection, string? Problem)> TryConnectAsync()
    {
        try
        {
            var connection = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
            {
                EndPoints = { { options.Host, options.Port } },
                AllowAdmin = true,
                AbortOnConnectFail = true,
                ConnectRetry = 1,
                ConnectTimeout = 3000,
                SyncTimeout = 5000,
                AsyncTimeout = 5000,
                ClientName = "failoverwatch-backup",
                User = options.User,
                Password = options.PasswordFile is null ? null : File.ReadAllText(options.PasswordFile).TrimEnd('\r', '\n'),
            });
            return (connection, null);
        }
        catch (RedisConnectionException e)
        {
            // A wrong password is not a down server: say which, so the note points at the configuration.
            var what = e.FailureType == ConnectionFailureType.AuthenticationFailure ? "refused authentication" : "unreachable";
            return (null, $"{what} ({FirstLine(e.Message)})");
        }
    }

    private async Task<RedisDumpInfo> SaveAsync(IServer server, CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        var before = await server.LastSaveAsync();

        // LASTSAVE has one-second resolution: a save in the same second as the last one would not move it.
        while ((await server.TimeAsync()).ToUniversalTime() < before.ToUniversalTime().AddSeconds(1))
        {
            await Task.Delay(PollEvery, timeProvider, cancellationToken);
        }

        try
        {
            await server.SaveAsync(SaveType.BackgroundSave);
        }
        catch (RedisServerException e) when (e.Message.Contains("in progress", StringComparison.OrdinalIgnoreCase))
        {
            // Someone else's BGSAVE is running: its LASTSAVE move is as good as ours.
        }

        while (true)
        {
            var last = await server.LastSaveAsync();
            if (last > before)
            {
                var status = (await server.InfoAsync("persistence")).SelectMany(g => g).FirstOrDefault(p => p.Key == "rdb_last_bgsave_status").Value;
                return status is null or "ok"
                    ? new RedisDumpInfo { FreshSave = true, LastSave = new DateTimeOffset(DateTime.SpecifyKind(last, DateTimeKind.Utc)) }
                    : throw new InvalidOperationException($"redis BGSAVE finished with status {status}");
            }

            if (timeProvider.GetElapsedTime(started) > options.SaveTimeout)
            {
                throw new TimeoutException($"redis LASTSAVE did not move within {Duration.Format(options.SaveTimeout)} of BGSAVE");
            }

            await Task.Delay(PollEvery, timeProvider, cancellationToken);
        }
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
