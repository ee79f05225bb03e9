namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>A clock that stands still until the test moves it, so backup ids are known; delays still pass in real time (Redis polling).</summary>
internal sealed class FakeClockSequence(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public void Advance(TimeSpan by) => _now += by;

    public override DateTimeOffset GetUtcNow() => _now;
}
