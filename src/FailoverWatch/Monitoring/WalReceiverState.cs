namespace FailoverWatch.Monitoring;

/// <summary>A standby's WAL receiver as <c>pg_stat_wal_receiver</c> shows it.</summary>
internal sealed record WalReceiverState(string Status, DateTimeOffset? LastMessageReceipt, string? SenderHost, int? SenderPort)
{
    public bool IsStreaming => Status == "streaming";
}
