using FailoverWatch.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Backup.Scheduling;

/// <summary>
/// <c>on_change</c> for secrets and certs: a change under their paths is in a backup of that kind within 60 s. inotify
/// (FileSystemWatcher) wakes the watcher at once; a look every <see cref="PollEvery"/> catches what inotify cannot
/// (watches exhausted, a network file system). A burst of writes (certbot writes four files and repoints four links) is
/// one backup: the watcher waits for <see cref="Settle"/> without events, then compares fingerprints. Runs on every
/// monitor, leader or not: certificates and <c>.env.production</c> live on particular hosts.
/// </summary>
internal sealed class BackupChangeWatcher(BackupOptions options, BackupRunner runner, ILogger<BackupChangeWatcher> logger) : BackgroundService
{
    public static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    private readonly TaskCompletionSource _watching = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pending;

    /// <summary>Completes once every watched kind has its first fingerprint and its watches: changes from then on are seen.</summary>
    public Task Watching => _watching.Task;

    /// <summary>The watched kinds: whether <c>on_change</c> asks for any.</summary>
    public static bool Wanted(BackupOptions options) => options.Secrets is { OnChange: true } || options.Certs is { OnChange: true };

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var watches = new List<Task>();
        _pending = (options.Secrets is { OnChange: true } ? 1 : 0) + (options.Certs is { OnChange: true } ? 1 : 0);
        if (options.Secrets is { OnChange: true } secrets)
        {
            var paths = secrets.Paths.ToHashSet(StringComparer.Ordinal);
            // Each file's folder is watched, but only events naming one of the files count (the folder may hold a busy state file).
            watches.Add(WatchAsync(BackupKinds.Secrets, () => SourceFingerprint.OfFiles(paths), [.. paths.Select(p => Path.GetDirectoryName(p)!).Distinct()], false, paths.Contains, stoppingToken));
        }

        if (options.Certs is { OnChange: true } certs)
        {
            watches.Add(WatchAsync(BackupKinds.Certs, () => SourceFingerprint.OfTree(certs.Path), [certs.Path], true, _ => true, stoppingToken));
        }

        return Task.WhenAll(watches);
    }

    private async Task WatchAsync(string kind, Func<string> fingerprint, string[] folders, bool recursive, Func<string, bool> counts, CancellationToken stoppingToken)
    {
        using var changed = new SemaphoreSlim(0);
        var watchers = folders.Select(folder => Watch(folder, recursive, counts, changed)).OfType<FileSystemWatcher>().ToList();
        try
        {
            var backedUp = fingerprint();
            BackupLog.WatchingChanges(logger, kind, string.Join(", ", folders), watchers.Count == folders.Length ? "inotify" : "polling");
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _watching.TrySetResult();
            }

            while (!stoppingToken.IsCancellationRequested)
            {
                if (await changed.WaitAsync(PollEvery, stoppingToken))
                {
                    // Let the burst finish: every further event restarts the wait.
                    while (await changed.WaitAsync(Settle, stoppingToken))
                    {
                    }
                }

                var now = fingerprint();
                if (now == backedUp)
                {
                    continue;
                }

                BackupLog.SourceChanged(logger, kind);
                var result = await runner.RunAsync(new HashSet<string>(StringComparer.Ordinal) { kind }, null, stoppingToken);
                if (result.Succeeded || result.Manifest?.Kinds.Contains(kind) == true)
                {
                    backedUp = now;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            watchers.ForEach(w => w.Dispose());
        }
    }

    private FileSystemWatcher? Watch(string folder, bool recursive, Func<string, bool> counts, SemaphoreSlim changed)
    {
        try
        {
            var watcher = new FileSystemWatcher(folder)
            {
                IncludeSubdirectories = recursive,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.Attributes | NotifyFilters.CreationTime,
            };
            void Seen(string path)
            {
                if (counts(path))
                {
                    changed.Release();
                }
            }

            watcher.Changed += (_, e) => Seen(e.FullPath);
            watcher.Created += (_, e) => Seen(e.FullPath);
            watcher.Deleted += (_, e) => Seen(e.FullPath);
            // A file replaced by rename (an editor's save, certbot's link swap) arrives under its new name.
            watcher.Renamed += (_, e) => Seen(e.FullPath);
            watcher.Error += (_, e) => BackupLog.WatchFailed(logger, folder, e.GetException().Message);
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            // No inotify for this folder (missing, or the watch limit reached): the regular look still sees changes.
            BackupLog.WatchFailed(logger, folder, e.Message);
            return null;
        }
    }
}
