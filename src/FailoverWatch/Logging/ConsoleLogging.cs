using Microsoft.Extensions.Logging;

namespace FailoverWatch.Logging;

internal static class ConsoleLogging
{
    /// <summary>The one log format of the host and the commands: single line, UTC timestamps; framework and driver chatter only from Warning up.</summary>
    public static ILoggingBuilder AddFailoverWatchConsole(this ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            console.UseUtcTimestamp = true;
        });
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Npgsql", LogLevel.Warning);
        return logging;
    }
}
