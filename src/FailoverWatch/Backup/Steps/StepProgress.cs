using System.Globalization;

namespace FailoverWatch.Backup.Steps;

/// <summary>One finished step, for the progress line of <c>failoverwatch backup</c>.</summary>
internal sealed record StepProgress(string Kind, long BytesWritten, long TotalBytes, int Files, TimeSpan Elapsed, string? Note)
{
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Kind,-8} {Human(BytesWritten),10} written {Human(TotalBytes),10} total {Files,7} files {Elapsed.TotalSeconds,7:0.00}s{(Note is null ? "" : "  " + Note)}");

    public static string Human(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0} GB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):0.0} kB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
