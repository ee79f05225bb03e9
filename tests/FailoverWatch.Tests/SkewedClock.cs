using Microsoft.Extensions.Time.Testing;

namespace FailoverWatch.Tests;

/// <summary>A host whose wall clock is off by <see cref="Offset"/> (stepped, or skewed), its monotonic clock that of the test.</summary>
internal sealed class SkewedClock(FakeTimeProvider clock) : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => clock.GetUtcNow() + Offset;

    public override long GetTimestamp() => clock.GetTimestamp();

    public override long TimestampFrequency => clock.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => clock.CreateTimer(callback, state, dueTime, period);
}
