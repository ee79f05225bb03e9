using System.Security.Cryptography.X509Certificates;
using FailoverWatch.Configuration;

namespace FailoverWatch.LocalServers;

/// <summary>
/// etcd serving its clients over https and asking each for a certificate <paramref name="TrustedCaFile"/> signed
/// (<c>--client-cert-auth</c>). The fixture's own calls present the server's pair, so it must allow client auth too.
/// </summary>
internal sealed record EtcdServerTls(string CertFile, string KeyFile, string TrustedCaFile)
{
    public IEnumerable<string> Arguments => ["--cert-file", CertFile, "--key-file", KeyFile, "--trusted-ca-file", TrustedCaFile, "--client-cert-auth"];

    public HttpClient CreateClient(TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(CertFile, KeyFile)];
        handler.SslOptions.RemoteCertificateValidationCallback = TlsTrust.Callback(TrustedCaFile, TimeProvider.System);
        return new HttpClient(handler) { Timeout = timeout };
    }
}
