using System.Net.Security;
using FailoverWatch.Configuration;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FailoverWatch.Http;

/// <summary>
/// <c>http.tls</c> on Kestrel's one listener: https only, the certificate and its intermediates from the PEM files,
/// read again when they change (a renewal needs no restart).
/// </summary>
internal static class HttpsEndpoint
{
    public static void Configure(ListenOptions listen, HttpTlsOptions? tls)
    {
        if (tls is not { CertFile: { } certFile, KeyFile: { } keyFile })
        {
            return;
        }

        var services = listen.ApplicationServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HttpsEndpoint));
        var served = new ReloadingFiles<SslStreamCertificateContext>(
            [certFile, keyFile],
            () =>
            {
                var (certificate, chain) = HttpTlsConfigValidator.LoadServerCertificate(certFile, keyFile);
                // The intermediates as the file lists them, not looked up elsewhere.
                return SslStreamCertificateContext.Create(certificate, chain, offline: true);
            },
            services.GetRequiredService<TimeProvider>(),
            e => logger.TlsFilesRefused(certFile, e.Message));
        // Per connection rather than ServerCertificate: each handshake takes the pair in force then.
        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions { ServerCertificateContext = served.Current }),
        });
    }
}
