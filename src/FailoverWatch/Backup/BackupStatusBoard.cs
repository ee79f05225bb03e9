using System.Collections.Concurrent;

namespace FailoverWatch.Backup;

/// <summary>The last successful backup time per kind, for <c>/status</c>. Written by backup runs, read by HTTP.</summary>
internal sealed class BackupStatusBoard
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastSuccess = new(StringComparer.Ordinal);

    public void RecordSuccess(string kind, DateTimeOffset at) => _lastSuccess[kind] = at;

    public IReadOnlyDictionary<string, DateTimeOffset> LastSuccess => new SortedDictionary<string, DateTimeOffset>(_lastSuccess, StringComparer.Ordinal);
}
