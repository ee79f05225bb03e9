using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FailoverWatch.Configuration;

/// <summary>The <c>http.tls</c> rules: a certificate with its key that loads, a CA file that holds certificates and has something to verify.</summary>
internal static class HttpTlsConfigValidator
{
    public static void Validate(HttpOptions http, bool coordination, string baseDirectory, Action<string, string> problem)
    {
        if (http.Tls is not { } tls)
        {
            return;
        }

        if (tls.CertFile is null || tls.KeyFile is null)
        {
            problem(tls.CertFile is null ? "http.tls.cert_file" : "http.tls.key_file", "cert_file and key_file go together, and http.tls needs both: the endpoint serves https with them");
        }
        else
        {
            CoordinationConfigValidator.CheckLoads(tls.CertFile, "http.tls.cert_file", baseDirectory, problem, path => LoadServerCertificate(path, Path.Combine(baseDirectory, tls.KeyFile)));
        }

        CoordinationConfigValidator.CheckLoads(tls.CaFile, "http.tls.ca_file", baseDirectory, problem, LoadAuthority);

        if (coordination && http.Advertise is { } advertise && advertise.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            problem("http.advertise", $"'{advertise}' is plain http while http.tls makes this endpoint serve https only; advertise https://");
        }
    }

    public static void ResolvePaths(HttpTlsOptions? tls, Func<string, string> full)
    {
        if (tls is null)
        {
            return;
        }

        tls.CertFile = tls.CertFile is null ? null : full(tls.CertFile);
        tls.KeyFile = tls.KeyFile is null ? null : full(tls.KeyFile);
        tls.CaFile = tls.CaFile is null ? null : full(tls.CaFile);
    }

    /// <summary>The certificate with its private key, and the intermediates that follow it in the same file.</summary>
    public static (X509Certificate2 Certificate, X509Certificate2Collection Chain) LoadServerCertificate(string certFile, string keyFile)
    {
        var certificate = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        if (certificate.NotAfter < DateTime.Now)
        {
            throw new CryptographicException($"the certificate expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC");
        }

        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(certFile);
        return (certificate, new X509Certificate2Collection(all.Skip(1).ToArray()));
    }

    public static X509Certificate2Collection LoadAuthority(string path)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(path);
        return certificates.Count > 0 ? certificates : throw new CryptographicException("no PEM certificate in it");
    }
}
