using FailoverWatch.Configuration;

namespace FailoverWatch.Tests.Configuration;

/// <summary>The <c>coordination:</c> section's checks, beside the rest of the file's.</summary>
public sealed partial class ConfigValidationTests
{
    private IReadOnlyList<string> CoordinationProblems(string coordination) =>
        [.. Problems(Nodes + "coordination:\n" + coordination).Select(p => p.ToString())];

    [Fact]
    public void a_valid_section_binds_with_its_defaults()
    {
        var (options, problems) = ConfigLoader.Parse(Nodes + "http:\n  advertise: http://10.0.0.5:9797\ncoordination:\n  monitor_name: fw1\n  etcd:\n    endpoints: [\"http://10.0.0.21:2379\", \"http://10.0.0.22:2379\"]\n", _directory);
        Assert.Empty(problems);
        Assert.Equal("fw1", options!.Coordination!.Name);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Coordination.Etcd.LeaseTtl);
        Assert.Equal("/failoverwatch", options.Coordination.Etcd.Prefix);
        Assert.Equal(Environment.MachineName, new CoordinationOptions().Name);
    }

    [Theory]
    [InlineData("  etcd: {}", "coordination.etcd.endpoints: needs at least one endpoint")]
    [InlineData("  etcd: { endpoints: [\"10.0.0.21:2379\"] }", "coordination.etcd.endpoints[0]: '10.0.0.21:2379' is not an http:// or https:// address")]
    [InlineData("  monitor_name: fw/1\n  etcd: { endpoints: [\"http://a:2379\"] }", "coordination.monitor_name: 'fw/1' must be letters")]
    [InlineData("  etcd: { endpoints: [\"http://a:2379\"], lease_ttl: 1500ms }", "coordination.etcd.lease_ttl: 1500ms must be whole seconds from 2s to 1h")]
    [InlineData("  etcd: { endpoints: [\"http://a:2379\"], prefix: fw }", "coordination.etcd.prefix: 'fw' must start with '/'")]
    [InlineData("  etcd: { endpoints: [\"http://a:2379\"], username: fw }", "coordination.etcd.password_file: username and password_file go together")]
    [InlineData("  etcd: { endpoints: [\"http://a:2379\"], username: fw, password_file: none }", "coordination.etcd.password_file: cannot load none")]
    [InlineData("  etcd: { endpoints: [\"http://a:2379\"], ca_file: ca.pem }", "coordination.etcd.endpoints[0]: must be https://")]
    [InlineData("  etcd: { endpoints: [\"https://a:2379\", \"http://b:2379\"] }", "coordination.etcd.endpoints[1]: is http:// but endpoints[0] is not: all plain http:// or all https://")]
    [InlineData("  etcd: { endpoints: [\"https://a:2379\"], cert_file: c.pem }", "coordination.etcd.key_file: cert_file and key_file go together")]
    [InlineData("  etcd: { endpoints: [\"http://a:2379\"], lease: 5s }", "coordination.etcd.lease: unknown key")]
    public void each_bad_setting_is_one_line_naming_its_key(string coordination, string expected)
    {
        Assert.Contains(CoordinationProblems(coordination), p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void a_tls_file_that_is_not_a_certificate_is_named_by_check_config()
    {
        File.WriteAllText(Path.Combine(_directory, "ca.pem"), "not a certificate");
        File.WriteAllText(Path.Combine(_directory, "client.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        File.WriteAllText(Path.Combine(_directory, "client.key"), "garbage");
        var found = CoordinationProblems("  etcd: { endpoints: [\"https://a:2379\"], ca_file: ca.pem, cert_file: client.pem, key_file: client.key }");
        Assert.Contains(found, p => p.StartsWith("coordination.etcd.ca_file: cannot load ca.pem", StringComparison.Ordinal));
        Assert.Contains(found, p => p.StartsWith("coordination.etcd.cert_file: cannot load client.pem", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("  listen: 127.0.0.1:9797\n", "http.listen: the other monitors cannot reach this one at 127.0.0.1:9797 (loopback or unspecified)")]
    [InlineData("  advertise: http://0.0.0.0:9797\n", "http.advertise: the other monitors cannot reach this one at 0.0.0.0:9797")]
    [InlineData("  advertise: http://[::1]:9797\n", "http.advertise: the other monitors cannot reach this one at [::1]:9797")]
    [InlineData("  advertise: 10.0.0.5:9797\n", "http.advertise: '10.0.0.5:9797' is not an http:// or https:// address")]
    [InlineData("  advertise: https://10.0.0.5:9797/fw\n", "http.advertise: 'https://10.0.0.5:9797/fw' is not an http:// or https:// address")]
    public void an_advertised_address_the_other_monitors_cannot_reach_is_refused(string http, string expected)
    {
        var problems = Problems(Nodes + "http:\n" + http + "coordination:\n  etcd: { endpoints: [\"http://127.0.0.1:2379\", \"http://10.0.0.21:2379\"] }\n").Select(p => p.ToString());
        Assert.Contains(problems, p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void loopback_is_fine_when_etcd_is_on_loopback_too_and_the_token_in_clear_text_across_the_network_is_a_warning()
    {
        File.WriteAllText(Path.Combine(_directory, "token"), "secret");
        var local = Nodes + "http:\n  listen: 0.0.0.0:9797\n  admin_token_file: token\ncoordination:\n  etcd: { endpoints: [\"http://127.0.0.1:2379\"] }\n";
        var (options, problems) = ConfigLoader.Parse(local, _directory);
        Assert.Empty(problems);
        Assert.DoesNotContain(ConfigValidator.Warnings(options!), w => w.Key == "http.advertise");

        var remote = Nodes + "http:\n  advertise: http://10.0.0.5:9797\n  admin_token_file: token\ncoordination:\n  etcd: { endpoints: [\"http://10.0.0.21:2379\"] }\n";
        (options, problems) = ConfigLoader.Parse(remote, _directory);
        Assert.Empty(problems);
        Assert.Contains(ConfigValidator.Warnings(options!), w => w.ToString().StartsWith("http.advertise: forwarded control requests carry the admin token to 10.0.0.5:9797 in clear text", StringComparison.Ordinal));

        (options, problems) = ConfigLoader.Parse(remote.Replace("http://10.0.0.5", "https://10.0.0.5", StringComparison.Ordinal), _directory);
        Assert.Empty(problems);
        Assert.DoesNotContain(ConfigValidator.Warnings(options!), w => w.Key == "http.advertise");
    }
}
