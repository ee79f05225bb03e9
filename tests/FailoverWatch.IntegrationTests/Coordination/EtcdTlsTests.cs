using System.Diagnostics;
using System.Net;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.LocalServers;

namespace FailoverWatch.IntegrationTests.Coordination;

/// <summary>A monitor on a real etcd that serves https and asks every client for a certificate of its CA.</summary>
public sealed class EtcdTlsTests
{
    private const string Fast = "probe_interval: 1s\nprobe_timeout: 2s\nfailure_threshold: 3";
    private const string Untrusted = "etcd's --trusted-ca-file did not sign this client certificate, or it has expired";

    /// <summary>
    /// The client certificate is read again when it changes, and only a new connection's handshake shows which one is
    /// presented: the monitor starts with a certificate of a CA etcd does not trust and leads once certbot's symlink
    /// swap renews it, with no restart (every refused handshake was a new connection). A broken renewal is refused
    /// and the previous pair kept: every connection cut, the monitor still writes.
    /// </summary>
    [Fact]
    public async Task a_client_certificate_etcd_does_not_trust_is_refused_clearly_and_renewals_are_presented_without_a_restart()
    {
        using var directory = new TempDirectory();
        var certificates = await TestCertificates.WriteAsync(directory.Path);
        await using var etcd = await LocalEtcdCluster.StartAsync(new EtcdServerTls(certificates.CertFile, certificates.KeyFile, certificates.CaFile), members: 1);
        // Between the monitor and etcd, to cut every connection: the next ones each begin with a handshake.
        using var relay = TcpRelay.Start(new Uri(etcd.ClientUrls[0]).Port);

        // certbot's layout: live/ links to the current files in archive/.
        var live = Directory.CreateDirectory(directory.File("live")).FullName;
        var (certFile, keyFile) = (Path.Combine(live, "client.pem"), Path.Combine(live, "client.key"));
        var first = await certificates.IssueAsync("client1", byOtherCa: true);
        File.CreateSymbolicLink(certFile, first.CertFile);
        File.CreateSymbolicLink(keyFile, first.KeyFile);

        await using var cluster = await TestCluster.StartAsync(Fast);
        await File.AppendAllTextAsync(cluster.ConfigPath, $"""
            coordination:
              monitor_name: fw1
              etcd:
                endpoints: ["https://127.0.0.1:{relay.Port}"]
                lease_ttl: 3s
                ca_file: {certificates.CaFile}
                cert_file: {certFile}
                key_file: {keyFile}

            """);
        await using var monitor = await MonitorProcess.StartAsync(cluster);
        await Wait.UntilAsync(() => Refused(monitor) > 0, TimeSpan.FromSeconds(20), "the untrusted client certificate logged as such");
        Assert.Contains("etcd refused this monitor's credentials (", monitor.Output, StringComparison.Ordinal);
        Assert.Equal(0, await monitor.MetricAsync("failoverwatch_coordination_up{cluster=\"test\"}"));

        // certbot renew: new files in archive/, each live/ link swapped alone (a link to a temporary name renamed over it).
        var renewed = await certificates.IssueAsync("client2");
        foreach (var (link, target) in (ValueTuple<string, string>[])[(keyFile, renewed.KeyFile), (certFile, renewed.CertFile)])
        {
            File.CreateSymbolicLink(link + ".new", target);
            File.Move(link + ".new", link, overwrite: true);
        }

        await Wait.UntilAsync(async () => (await monitor.StatusAsync()).GetProperty("leader").GetString() == "fw1", TimeSpan.FromSeconds(30), "fw1 leading with its renewed certificate");
        var keys = EtcdKeys.For("/failoverwatch", "test");
        using (var reader = new EtcdGateway(new EtcdOptions { Endpoints = [.. etcd.ClientUrls], CaFile = certificates.CaFile, CertFile = certificates.CertFile, KeyFile = certificates.KeyFile }, TimeProvider.System))
        {
            Assert.NotNull(await reader.GetAsync(keys.Monitor("fw1"), CancellationToken.None));
            Assert.NotNull(await reader.GetAsync(keys.Leader, CancellationToken.None));
        }

        // A renewal whose key does not match, then the connections cut: a handshake looks at the files, refuses them
        // with a warning and presents the kept pair, which still writes.
        File.Move((await certificates.IssueAsync("unkeyed")).CertFile, renewed.CertFile, overwrite: true);
        await CutUntilAsync(relay, () => monitor.Output.Contains($"{certFile} changed but does not load, so the previous one stays in use", StringComparison.Ordinal), "the broken renewal refused");
        await Wait.UntilAsync(async () => (await monitor.PostAsync("pause", cluster.AdminToken)).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(20), "a pause written over new connections");
        Assert.True((await monitor.StatusAsync()).GetProperty("paused").GetBoolean());
    }

    private static int Refused(MonitorProcess monitor) => monitor.Output.Split(Untrusted).Length - 1;

    /// <summary>
    /// Cuts every connection, again each second until <paramref name="condition"/>: the files are looked at when a
    /// handshake asks for the certificate, at most every <see cref="ReloadingFiles{T}.CheckEvery"/>.
    /// </summary>
    private static async Task CutUntilAsync(TcpRelay relay, Func<bool> condition, string what)
    {
        var cut = Stopwatch.StartNew();
        relay.Restore();
        await Wait.UntilAsync(
            () =>
            {
                if (cut.Elapsed > TimeSpan.FromSeconds(1))
                {
                    relay.Restore();
                    cut.Restart();
                }

                return condition();
            },
            ReloadingFiles<object>.CheckEvery * 4,
            what);
    }
}
