namespace FailoverWatch.Monitoring;

/// <summary>When the monitor loop last finished a round; <c>/healthz</c> fails when it stalls.</summary>
internal sealed class MonitorHeartbeat
{
    private long _lastBeatTicks;

    public DateTimeOffset? LastBeat => Interlocked.Read(ref _lastBeatTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public void Beat(DateTimeOffset at) => Interlocked.Exchange(ref _lastBeatTicks, at.UtcTicks);
}
