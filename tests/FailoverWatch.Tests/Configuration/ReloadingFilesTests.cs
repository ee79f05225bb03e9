using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FailoverWatch.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace FailoverWatch.Tests.Configuration;

/// <summary>A certificate pair read again when its files change, on real files and a fake clock.</summary>
public sealed class ReloadingFilesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-reload-").FullName;
    private readonly FakeTimeProvider _clock = new();
    private readonly List<Exception> _refused = [];
    private DateTime _written = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    /// <summary>A new pair under <paramref name="name"/>; its thumbprint. Each write a later mtime, as a renewal days apart has.</summary>
    private string Write(string name, DateTimeOffset? notAfter = null, bool certificateOnly = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var until = notAfter ?? DateTimeOffset.UtcNow.AddDays(30);
        using var certificate = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256).CreateSelfSigned(until.AddDays(-2), until);
        Stamp(name + ".pem", certificate.ExportCertificatePem());
        if (!certificateOnly)
        {
            Stamp(name + ".key", key.ExportPkcs8PrivateKeyPem());
        }

        return certificate.Thumbprint;
    }

    private void Stamp(string name, string text)
    {
        File.WriteAllText(PathOf(name), text);
        File.SetLastWriteTimeUtc(PathOf(name), _written = _written.AddMinutes(1));
    }

    private ReloadingFiles<X509Certificate2> Reloading(string cert, string key) =>
        new([cert, key], () => HttpTlsConfigValidator.LoadServerCertificate(cert, key).Certificate, _clock, _refused.Add);

    [Fact]
    public void a_renewed_pair_is_used_at_the_first_use_after_the_check_interval_not_before()
    {
        var first = Write("web");
        var served = Reloading(PathOf("web.pem"), PathOf("web.key"));
        Assert.Equal(first, served.Current.Thumbprint);

        var renewed = Write("web");
        _clock.Advance(ReloadingFiles<X509Certificate2>.CheckEvery - TimeSpan.FromMilliseconds(1));
        Assert.Equal(first, served.Current.Thumbprint);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(renewed, served.Current.Thumbprint);
        Assert.Empty(_refused);
    }

    [Fact]
    public void a_pair_that_does_not_load_is_refused_once_and_the_previous_one_stays_until_a_good_one_replaces_it()
    {
        var first = Write("web");
        var served = Reloading(PathOf("web.pem"), PathOf("web.key"));

        // A new certificate whose key is not written yet (half a renewal): refused, told once, not retried unchanged.
        Write("web", certificateOnly: true);
        _clock.Advance(ReloadingFiles<X509Certificate2>.CheckEvery);
        Assert.Equal(first, served.Current.Thumbprint);
        Assert.Single(_refused);
        _clock.Advance(ReloadingFiles<X509Certificate2>.CheckEvery);
        Assert.Equal(first, served.Current.Thumbprint);
        Assert.Single(_refused);

        // A half-written certificate file.
        Stamp("web.pem", File.ReadAllText(PathOf("web.pem"))[..100]);
        _clock.Advance(ReloadingFiles<X509Certificate2>.CheckEvery);
        Assert.Equal(first, served.Current.Thumbprint);

        // An expired pair.
        Write("web", notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        _clock.Advance(ReloadingFiles<X509Certificate2>.CheckEvery);
        Assert.Equal(first, served.Current.Thumbprint);
        Assert.Equal(3, _refused.Count);
        Assert.Contains("expired", _refused[2].Message, StringComparison.Ordinal);

        var fixedPair = Write("web");
        _clock.Advance(ReloadingFiles<X509Certificate2>.CheckEvery);
        Assert.Equal(fixedPair, served.Current.Thumbprint);
    }

    [Fact]
    public void a_certbot_renewal_that_points_the_live_symlinks_at_new_archive_files_is_followed()
    {
        var first = Write("cert1");
        File.Move(PathOf("cert1.key"), PathOf("privkey1.pem"));
        Directory.CreateDirectory(PathOf("live"));
        File.CreateSymbolicLink(PathOf("live/cert.pem"), "../cert1.pem");
        File.CreateSymbolicLink(PathOf("live/privkey.pem"), "../privkey1.pem");
        var served = Reloading(PathOf("live/cert.pem"), PathOf("live/privkey.pem"));
        Assert.Equal(first, served.Current.Thumbprint);

        // As certbot does: new archive files, then each link replaced by renaming a new link over it.
        var renewed = Write("cert2");
        File.Move(PathOf("cert2.key"), PathOf("privkey2.pem"));
        foreach (var (link, target) in new[] { ("live/cert.pem", "../cert2.pem"), ("live/privkey.pem", "../privkey2.pem") })
        {
            File.CreateSymbolicLink(PathOf(link + ".new"), target);
            File.Move(PathOf(link + ".new"), PathOf(link), overwrite: true);
        }

        _clock.Advance(ReloadingFiles<X509Certificate2>.CheckEvery);
        Assert.Equal(renewed, served.Current.Thumbprint);
        Assert.Empty(_refused);
    }
}
