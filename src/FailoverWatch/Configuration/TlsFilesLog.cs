using Microsoft.Extensions.Logging;

namespace FailoverWatch.Configuration;

/// <summary>Log lines of the TLS files read again while the host runs.</summary>
internal static partial class TlsFilesLog
{
    [LoggerMessage(3500, LogLevel.Warning, "{File} changed but does not load, so the previous one stays in use: {Problem}")]
    public static partial void TlsFilesRefused(this ILogger logger, string file, string problem);
}
