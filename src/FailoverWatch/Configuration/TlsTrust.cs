using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FailoverWatch.Configuration;

/// <summary>Verification of a TLS peer against one configured CA file alone, as <c>etcdctl --cacert</c> and <c>curl --cacert</c> do.</summary>
internal static class TlsTrust
{
    /// <summary>
    /// Accepts a certificate only when it names the host asked for and chains to a certificate in <paramref name="caFile"/>,
    /// as the file reads now: a changed CA file is read again, one that does not load is refused (to <paramref name="logger"/>).
    /// </summary>
    public static RemoteCertificateValidationCallback Callback(string caFile, TimeProvider time, ILogger? logger = null)
    {
        var authority = new ReloadingFiles<X509Certificate2Collection>(
            [caFile], () => HttpTlsConfigValidator.LoadAuthority(caFile), time, e => (logger ?? NullLogger.Instance).TlsFilesRefused(caFile, e.Message));
        return (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
            {
                return false;
            }

            // SslStream hands over an X509Certificate2 it owns; only a copy of another kind is ours, and disposed here,
            // as are the chain's certificates: each holds native memory, and this runs once per connection.
            var peer = certificate as X509Certificate2;
            using var copy = peer is null ? new X509Certificate2(certificate) : null;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(authority.Current);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            try
            {
                return chain.Build(peer ?? copy!);
            }
            finally
            {
                foreach (var element in chain.ChainElements)
                {
                    element.Certificate.Dispose();
                }
            }
        };
    }
}
