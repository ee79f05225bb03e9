using System.Diagnostics;

namespace FailoverWatch.Telemetry;

/// <summary>The trace source: a span per probe round, per failover (promote, fence, hooks) and per backup step.</summary>
internal static class FailoverWatchActivity
{
    public const string SourceName = "FailoverWatch";

    public static readonly ActivitySource Source = new(SourceName, typeof(FailoverWatchActivity).Assembly.GetName().Version?.ToString());
}
