using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FailoverWatch.Configuration;

namespace FailoverWatch.Tests.Http;

/// <summary>ca_file alone decides: a monitor's certificate must chain to it and name the address asked for.</summary>
public sealed class TlsTrustTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-tls-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static X509Certificate2 Authority(ECDsa key)
    {
        var request = new CertificateRequest("CN=failoverwatch-test-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
    }

    private static X509Certificate2 Issue(X509Certificate2 authority)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        return request.Create(authority, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1), [1, 2, 3, 4]);
    }

    [Fact]
    public void a_certificate_of_the_configured_ca_passes_one_of_another_ca_with_the_same_name_or_for_another_name_does_not()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var authority = Authority(caKey);
        using var other = Authority(otherKey);
        var caFile = Path.Combine(_directory, "ca.pem");
        File.WriteAllText(caFile, authority.ExportCertificatePem());
        var trust = TlsTrust.Callback(caFile, TimeProvider.System);

        using var ours = Issue(authority);
        using var theirs = Issue(other);
        // Not in the system's store: the platform reports a chain error, which ca_file answers.
        Assert.True(trust(this, ours, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(trust(this, theirs, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(trust(this, ours, null, SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch));
        Assert.False(trust(this, null, null, SslPolicyErrors.RemoteCertificateNotAvailable));

        // The caller's certificate stays its own (SslStream disposes it); one of the base type is verified as well.
        Assert.NotEqual(IntPtr.Zero, ours.Handle);
        Assert.Equal("CN=127.0.0.1", ours.Subject);
        using var plain = new X509Certificate(ours);
        Assert.True(trust(this, plain, null, SslPolicyErrors.RemoteCertificateChainErrors));
    }
}
