using System.Diagnostics;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// A throwaway CA and one server certificate for 127.0.0.1 signed by it (PEM, made by openssl as an operator
/// would), plus a second CA that signed nothing: the wrong CA for a monitor that must refuse the others.
/// </summary>
public sealed record TestCertificates(string CaFile, string CertFile, string KeyFile, string OtherCaFile)
{
    public static async Task<TestCertificates> WriteAsync(string directory)
    {
        var certificates = new TestCertificates(
            Path.Combine(directory, "ca.pem"), Path.Combine(directory, "monitor.pem"), Path.Combine(directory, "monitor.key"), Path.Combine(directory, "other-ca.pem"));
        const string Script = """
            set -e
            ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
            openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj /CN=failoverwatch-test-ca
            openssl req -x509 $ec -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=failoverwatch-test-ca
            openssl req $ec -keyout monitor.key -out monitor.csr -subj /CN=127.0.0.1
            printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > monitor.ext
            openssl x509 -req -in monitor.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile monitor.ext -out monitor.pem
            """;
        var start = new ProcessStartInfo("/bin/sh", ["-c", Script]) { WorkingDirectory = directory, RedirectStandardError = true, RedirectStandardOutput = true };
        using var openssl = Process.Start(start)!;
        var errors = openssl.StandardError.ReadToEndAsync();
        await openssl.StandardOutput.ReadToEndAsync();
        await openssl.WaitForExitAsync();
        return openssl.ExitCode == 0 ? certificates : throw new InvalidOperationException($"openssl failed: {await errors}");
    }
}
