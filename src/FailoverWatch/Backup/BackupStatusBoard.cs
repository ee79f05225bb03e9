using System.Collections.Concurrent;

namespace FailoverWatch.Backup;

/// <summary>The last successful backup time per kind, for <c>/status</c>. Written by backup runs, read by HTTP.</summary>
internal sealed class BackupStatusBoard
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastSuccess = new(StringComparer.Ordinal);

    public void RecordSuccess(string kind, DateTimeOffset at) => _lastSuccess[kind] = at;

    /// <summary>Records <paramref name="at"/> unless a later success is already known; true when it was newer.</summary>
    public bool RecordIfNewer(string kind, DateTimeOffset at)
    {
        var stored = _lastSuccess.AddOrUpdate(kind, at, (_, known) => at > known ? at : known);
        return stored == at;
    }

    public IReadOnlyDictionary<string, DateTimeOffset> LastSuccess => new SortedDictionary<string, DateTimeOffset>(_lastSuccess, StringComparer.Ordinal);
}
