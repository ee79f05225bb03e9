using System.Security.Cryptography;

namespace FailoverWatch.Configuration;

/// <summary>
/// A value loaded from files (a certificate and its key, a CA file) and loaded again when one of them changes, so a
/// renewed certificate is used without a restart. The files are looked at on use, at most every <see cref="CheckEvery"/>.
/// Each path is resolved to its final target on every look: certbot renews by pointing the symlinks under
/// /etc/letsencrypt/live at new files, which a watch on the link itself would miss. A set that does not load
/// (a key that does not match, a half-written file, an expired certificate) is refused and the last good value stays.
/// </summary>
internal sealed class ReloadingFiles<T>
    where T : class
{
    public static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(5);

    private readonly IReadOnlyList<string> _paths;
    private readonly Func<T> _load;
    private readonly TimeProvider _time;
    private readonly Action<Exception> _refused;
    private readonly Lock _lock = new();
    private T _current;
    private string _stamp;
    private long _nextCheck;

    /// <summary>Loads at once and throws when that fails: at start the files were validated, so a failure here is the operator's to see.</summary>
    /// <param name="refused">Told why a changed set was refused, once per change.</param>
    public ReloadingFiles(IReadOnlyList<string> paths, Func<T> load, TimeProvider time, Action<Exception> refused)
    {
        (_paths, _load, _time, _refused) = (paths, load, time, refused);
        // Stamped before loading: a change during the load is then seen at the next look.
        _stamp = Stamp(paths);
        _current = load();
        _nextCheck = time.GetTimestamp() + Ticks(CheckEvery);
    }

    public T Current
    {
        get
        {
            var now = _time.GetTimestamp();
            if (now < Volatile.Read(ref _nextCheck))
            {
                return Volatile.Read(ref _current);
            }

            lock (_lock)
            {
                if (now >= _nextCheck)
                {
                    Check();
                    Volatile.Write(ref _nextCheck, now + Ticks(CheckEvery));
                }

                return _current;
            }
        }
    }

    private void Check()
    {
        var stamp = Stamp(_paths);
        if (stamp == _stamp)
        {
            return;
        }

        // A refused set is not tried again until the files change once more (certbot's next step, the operator's fix).
        _stamp = stamp;
        try
        {
            // The previous value is left to the collector, not disposed: a handshake under way may still use it.
            Volatile.Write(ref _current, _load());
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            _refused(e);
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    /// <summary>Which file each path leads to, with its modification time and size.</summary>
    private static string Stamp(IReadOnlyList<string> paths) => string.Join('\n', paths.Select(path =>
    {
        try
        {
            var target = File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path;
            var file = new FileInfo(target);
            return file.Exists ? $"{target} {file.LastWriteTimeUtc.Ticks} {file.Length}" : $"{target} missing";
        }
        catch (IOException)
        {
            // A link to a link that is being replaced, or a dangling one: the next look sees where it settled.
            return $"{path} unresolved";
        }
    }));
}
