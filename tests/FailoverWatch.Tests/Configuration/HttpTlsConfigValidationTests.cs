using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FailoverWatch.Configuration;

namespace FailoverWatch.Tests.Configuration;

/// <summary>The <c>http.tls</c> checks, on PEM files written here.</summary>
public sealed partial class ConfigValidationTests
{
    private void WriteCertificate(string name, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256).CreateSelfSigned(notAfter.AddDays(-2), notAfter);
        File.WriteAllText(Path.Combine(_directory, name + ".pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_directory, name + ".key"), key.ExportPkcs8PrivateKeyPem());
    }

    private IReadOnlyList<string> TlsProblems(string tls, string more = "") =>
        [.. Problems(Nodes + "http:\n  tls: " + tls + "\n" + more).Select(p => p.ToString())];

    [Fact]
    public void http_tls_with_a_certificate_its_key_and_a_ca_binds_and_advertises_https()
    {
        WriteCertificate("good", DateTimeOffset.UtcNow.AddDays(30));
        var (options, problems) = ConfigLoader.Parse(Nodes + "http:\n  listen: 127.0.0.1:9797\n  tls: { cert_file: good.pem, key_file: good.key, ca_file: good.pem }\n", _directory);
        Assert.Empty(problems);
        Assert.Equal(Path.Combine(_directory, "good.key"), options!.Http.Tls!.KeyFile);
        Assert.Equal(new Uri("https://127.0.0.1:9797/"), CoordinationConfigValidator.Advertised(options.Http));
    }

    [Theory]
    [InlineData("{ key_file: good.key }", "http.tls.cert_file: cert_file and key_file go together")]
    [InlineData("{ cert_file: good.pem }", "http.tls.key_file: cert_file and key_file go together")]
    [InlineData("{ ca_file: good.pem }", "http.tls.cert_file: cert_file and key_file go together")]
    [InlineData("{ cert_file: missing.pem, key_file: good.key }", "http.tls.cert_file: cannot load missing.pem")]
    [InlineData("{ cert_file: good.pem, key_file: other.key }", "http.tls.cert_file: cannot load good.pem")]
    [InlineData("{ cert_file: old.pem, key_file: old.key }", "http.tls.cert_file: cannot load old.pem: the certificate expired on")]
    [InlineData("{ cert_file: good.pem, key_file: good.key, ca_file: good.key }", "http.tls.ca_file: cannot load good.key: no PEM certificate in it")]
    [InlineData("{ cert_file: good.pem, key_file: good.key, ca: good.pem }", "http.tls.ca: unknown key")]
    public void each_bad_tls_setting_is_one_line_naming_its_key(string tls, string expected)
    {
        WriteCertificate("good", DateTimeOffset.UtcNow.AddDays(30));
        WriteCertificate("other", DateTimeOffset.UtcNow.AddDays(30));
        WriteCertificate("old", DateTimeOffset.UtcNow.AddDays(-1));
        Assert.Contains(TlsProblems(tls), p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void a_plain_http_advertise_beside_http_tls_is_refused_and_https_is_not_warned_about()
    {
        WriteCertificate("good", DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(Path.Combine(_directory, "token"), "secret");
        const string Tls = "{ cert_file: good.pem, key_file: good.key }\n  admin_token_file: token";
        const string Etcd = "coordination:\n  etcd: { endpoints: [\"http://10.0.0.21:2379\"] }\n";
        Assert.Contains(TlsProblems(Tls + "\n  advertise: http://10.0.0.5:9797", Etcd), p => p.StartsWith("http.advertise: 'http://10.0.0.5:9797' is plain http while http.tls", StringComparison.Ordinal));

        var (options, problems) = ConfigLoader.Parse(Nodes + "http:\n  tls: " + Tls + "\n  listen: 10.0.0.5:9797\n" + Etcd, _directory);
        Assert.Empty(problems);
        Assert.DoesNotContain(ConfigValidator.Warnings(options!), w => w.Key == "http.advertise");
    }
}
