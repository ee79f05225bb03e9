using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// A throwaway CA and one server certificate for 127.0.0.1 signed by it (PEM, made by openssl as an operator
/// would), plus a second CA that signed nothing unless asked: the wrong CA for a monitor that must refuse the others.
/// Every certificate issued may serve and present itself as a client (etcd's <c>--client-cert-auth</c>).
/// </summary>
public sealed record TestCertificates(string CaFile, string CertFile, string KeyFile, string OtherCaFile)
{
    // "$1.pem" and "$1.key": a certificate for 127.0.0.1 of "$2.pem" and its key.
    private const string Issue = """
        openssl req $ec -keyout "$1.key" -out "$1.csr" -subj "/CN=127.0.0.1/OU=$1"
        printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' > monitor.ext
        openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 -extfile monitor.ext -out "$1.pem"
        """;

    private string Directory => Path.GetDirectoryName(CertFile)!;

    public static async Task<TestCertificates> WriteAsync(string directory)
    {
        var certificates = new TestCertificates(
            Path.Combine(directory, "ca.pem"), Path.Combine(directory, "monitor.pem"), Path.Combine(directory, "monitor.key"), Path.Combine(directory, "other-ca.pem"));
        await certificates.OpensslAsync("""
            openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj /CN=failoverwatch-test-ca
            openssl req -x509 $ec -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=failoverwatch-test-ca
            """ + "\n" + Issue, "monitor");
        return certificates;
    }

    /// <summary>A renewal: a new pair of the same CA renamed over the served files, key first. Its certificate's thumbprint.</summary>
    public async Task<string> RenewAsync()
    {
        var renewed = await IssueAsync("renewed");
        File.Move(renewed.KeyFile, KeyFile, overwrite: true);
        File.Move(renewed.CertFile, CertFile, overwrite: true);
        using var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(CertFile));
        return certificate.GetCertHashString();
    }

    /// <summary>A broken renewal: a new certificate renamed over the served one, its key never written.</summary>
    public async Task BreakAsync() => File.Move((await IssueAsync("unkeyed")).CertFile, CertFile, overwrite: true);

    /// <summary>The thumbprint of the certificate served at <paramref name="address"/>, whoever signed it.</summary>
    public static async Task<string> ServedAsync(Uri address)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        await using var tls = new SslStream(tcp.GetStream());
        // Only looks at what is served: verifying it is the monitors' part, tested with them.
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = address.Host, RemoteCertificateValidationCallback = (_, _, _, _) => true });
        return tls.RemoteCertificate!.GetCertHashString();
    }

    /// <summary>A new pair named <paramref name="name"/> in the CA's folder, signed by ca.pem or, <paramref name="byOtherCa"/>, by other-ca.pem.</summary>
    public async Task<(string CertFile, string KeyFile)> IssueAsync(string name, bool byOtherCa = false)
    {
        await OpensslAsync(Issue, name, byOtherCa ? "other-ca" : "ca");
        var prefix = Path.Combine(Directory, name);
        return (prefix + ".pem", prefix + ".key");
    }

    private async Task OpensslAsync(string script, string name, string ca = "ca")
    {
        var prelude = "set -e\nec=\"-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes\"\n";
        var start = new ProcessStartInfo("/bin/sh", ["-c", prelude + script, "sh", name, ca]) { WorkingDirectory = Directory, RedirectStandardError = true, RedirectStandardOutput = true };
        using var openssl = Process.Start(start)!;
        var errors = openssl.StandardError.ReadToEndAsync();
        await openssl.StandardOutput.ReadToEndAsync();
        await openssl.WaitForExitAsync();
        if (openssl.ExitCode != 0)
        {
            throw new InvalidOperationException($"openssl failed: {await errors}");
        }
    }
}
