using FailoverWatch.Configuration;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace FailoverWatch.Http;

/// <summary><c>http.tls</c> on Kestrel's one listener: https only, the certificate and its intermediates from the PEM files.</summary>
internal static class HttpsEndpoint
{
    public static void Configure(ListenOptions listen, HttpTlsOptions? tls)
    {
        if (tls is not { CertFile: { } certFile, KeyFile: { } keyFile })
        {
            return;
        }

        // Loaded once: after a renewal the monitor needs a restart (a reload, like the backup's on_change, is not done here).
        var (certificate, chain) = HttpTlsConfigValidator.LoadServerCertificate(certFile, keyFile);
        listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate, ServerCertificateChain = chain });
    }
}
