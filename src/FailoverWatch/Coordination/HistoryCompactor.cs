using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Coordination;

/// <summary>
/// etcd 3.4 keeps every revision until something compacts it, and at its backend quota (2 GiB by default) refuses
/// every write until an operator compacts, defragments and disarms the alarm. The leader compacts what no one
/// needs: all but the last <see cref="KeepRevisions"/> revisions (minutes of the group's writes), at most once per
/// that many new ones. Under etcd auth, Compact needs the root role; without it this says so once and stops trying.
/// </summary>
internal sealed class HistoryCompactor(IEtcdGateway etcd, ILogger logger)
{
    public const long KeepRevisions = 1000;

    private long _compactedTo;
    private bool _refused;

    /// <param name="revision">The newest revision seen (the views are republished every few seconds, so about the current one).</param>
    public async Task CompactAsync(long revision, CancellationToken cancellationToken)
    {
        var target = revision - KeepRevisions;
        if (_refused || target - _compactedTo < KeepRevisions)
        {
            return;
        }

        try
        {
            await etcd.CompactAsync(target, cancellationToken);
            _compactedTo = target;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.PermissionDenied)
        {
            _refused = true;
            logger.CompactionRefused(e.Status.Detail);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.OutOfRange)
        {
            // Compacted past it already (etcd's own auto-compaction, or an operator).
            _compactedTo = target;
        }
    }
}
