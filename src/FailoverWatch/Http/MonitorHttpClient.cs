using FailoverWatch.Configuration;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Http;

/// <summary>How a monitor and the CLI talk to monitors' HTTP endpoints: https verified against <c>http.tls.ca_file</c> when set.</summary>
internal static class MonitorHttpClient
{
    public static HttpClient Create(HttpOptions http, TimeSpan timeout, TimeProvider time, ILogger? logger = null)
    {
        var handler = new SocketsHttpHandler();
        if (http.Tls?.CaFile is { } caFile)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = TlsTrust.Callback(caFile, time, logger);
        }

        return new HttpClient(handler) { Timeout = timeout };
    }

    /// <summary>
    /// Where the CLI reaches the running host of this configuration: http.advertise when set (the name its
    /// certificate carries), else http://LISTEN, https:// with http.tls.
    /// </summary>
    public static Uri Local(HttpOptions http) =>
        (http.Advertise is null ? null : CoordinationConfigValidator.Advertised(http))
        ?? new Uri($"{(http.Tls is null ? "http" : "https")}://{http.Listen}/");

    /// <summary>Why a request got no answer, down to the TLS refusal (a certificate the CA file does not vouch for).</summary>
    public static string Why(HttpRequestException e) =>
        e.InnerException is { } inner ? $"{e.Message} {inner.Message}" : e.Message;
}
