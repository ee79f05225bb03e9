namespace FailoverWatch.Monitoring;

/// <summary>Why a probe failed; the kind is a metric label, the detail is for people.</summary>
internal sealed record ProbeFailure(ProbeFailureKind Kind, string Detail)
{
    public string Label => Kind switch
    {
        ProbeFailureKind.Unreachable => "unreachable",
        ProbeFailureKind.Timeout => "timeout",
        ProbeFailureKind.WriteFailed => "write_failed",
        _ => "error",
    };

    public override string ToString() => $"{Label}: {Detail}";
}

internal enum ProbeFailureKind
{
    /// <summary>Connection refused, reset, or the server said no.</summary>
    Unreachable,

    /// <summary>No answer within probe_timeout: a hung server or a silent network.</summary>
    Timeout,

    /// <summary>The primary answered but could not commit the heartbeat write.</summary>
    WriteFailed,
}
