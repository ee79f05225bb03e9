using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FailoverWatch.Configuration;

/// <summary>The <c>coordination:</c> rules: names usable in etcd keys, endpoints, a lease etcd accepts, credentials and TLS files that load.</summary>
internal static class CoordinationConfigValidator
{
    public static void Validate(CoordinationOptions coordination, string baseDirectory, Action<string, string> problem)
    {
        if (coordination.MonitorName is { } name && (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            problem("coordination.monitor_name", $"'{name}' must be letters, digits, '-', '_' or '.' (it is part of an etcd key)");
        }

        var etcd = coordination.Etcd;
        if (etcd.Endpoints.Count == 0)
        {
            problem("coordination.etcd.endpoints", "needs at least one endpoint such as http://10.0.0.21:2379");
        }

        var tls = etcd.CaFile is not null || etcd.CertFile is not null;
        for (var i = 0; i < etcd.Endpoints.Count; i++)
        {
            if (!Uri.TryCreate(etcd.Endpoints[i], UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/")
            {
                problem($"coordination.etcd.endpoints[{i}]", $"'{etcd.Endpoints[i]}' is not an http:// or https:// address such as http://10.0.0.21:2379");
            }
            else if (tls && uri.Scheme != "https")
            {
                problem($"coordination.etcd.endpoints[{i}]", "must be https:// when ca_file or cert_file is set");
            }
            else if (Uri.TryCreate(etcd.Endpoints[0], UriKind.Absolute, out var first) && uri.Scheme != first.Scheme)
            {
                // One channel spreads the calls over them all, with TLS or without.
                problem($"coordination.etcd.endpoints[{i}]", $"is {uri.Scheme}:// but endpoints[0] is not: all plain http:// or all https://");
            }
        }

        if (!etcd.Prefix.StartsWith('/') || etcd.Prefix.EndsWith('/'))
        {
            problem("coordination.etcd.prefix", $"'{etcd.Prefix}' must start with '/' and not end with one, such as /failoverwatch");
        }

        // etcd counts lease TTLs in whole seconds and refuses very short ones (below 1.5 election timeouts).
        if (etcd.LeaseTtl < TimeSpan.FromSeconds(2) || etcd.LeaseTtl > TimeSpan.FromHours(1) || etcd.LeaseTtl.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            problem("coordination.etcd.lease_ttl", $"{Duration.Format(etcd.LeaseTtl)} must be whole seconds from 2s to 1h");
        }

        if ((etcd.Username is null) != (etcd.PasswordFile is null))
        {
            problem(etcd.Username is null ? "coordination.etcd.username" : "coordination.etcd.password_file", "username and password_file go together");
        }

        CheckLoads(etcd.PasswordFile, "coordination.etcd.password_file", baseDirectory, problem, File.ReadAllText);
        CheckLoads(etcd.CaFile, "coordination.etcd.ca_file", baseDirectory, problem, HttpTlsConfigValidator.LoadAuthority);
        if ((etcd.CertFile is null) != (etcd.KeyFile is null))
        {
            problem(etcd.CertFile is null ? "coordination.etcd.cert_file" : "coordination.etcd.key_file", "cert_file and key_file go together");
        }
        else if (etcd.CertFile is { } cert && etcd.KeyFile is { } key)
        {
            CheckLoads(cert, "coordination.etcd.cert_file", baseDirectory, problem, path => X509Certificate2.CreateFromPemFile(path, Path.Combine(baseDirectory, key)));
        }
    }

    /// <summary>
    /// The address the other monitors forward control requests to: one they can reach. Loopback or 0.0.0.0 is
    /// refused unless etcd is on loopback too (every monitor on one host: tests, benches).
    /// </summary>
    public static void ValidateAdvertise(HttpOptions http, CoordinationOptions coordination, Action<string, string> problem)
    {
        if (Advertised(http) is not { } uri)
        {
            problem("http.advertise", $"'{http.Advertise}' is not an http:// or https:// address such as https://10.0.0.21:9797");
            return;
        }

        if (IsLocal(uri) && !coordination.Etcd.Endpoints.All(e => Uri.TryCreate(e, UriKind.Absolute, out var endpoint) && IsLocal(endpoint)))
        {
            problem(
                http.Advertise is null ? "http.listen" : "http.advertise",
                $"the other monitors cannot reach this one at {uri.Authority} (loopback or unspecified) while etcd runs on other hosts; set http.advertise to an address they reach, such as https://10.0.0.21:9797");
        }
    }

    /// <summary>With coordination, forwarded pause/resume/switchover requests carry the admin token to the advertised address.</summary>
    public static IEnumerable<ConfigProblem> Warnings(FailoverWatchOptions options)
    {
        if (options.Coordination is not null && options.Http.AdminTokenFile is not null && Advertised(options.Http) is { Scheme: "http" } uri && !IsLocal(uri))
        {
            yield return new ConfigProblem("http.advertise", $"forwarded control requests carry the admin token to {uri.Authority} in clear text: advertise an https:// address (a TLS proxy in front of http.listen), or keep the monitors on a private network");
        }
    }

    /// <summary>Where this monitor says it is: http.advertise, else http(s)://LISTEN; null when advertise is not a base URL.</summary>
    public static Uri? Advertised(HttpOptions http) =>
        Uri.TryCreate(http.Advertise ?? (http.Tls is null ? "http://" : "https://") + http.Listen, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.AbsolutePath == "/" && uri.Query.Length == 0
            ? uri
            : null;

    private static bool IsLocal(Uri uri) =>
        uri.IsLoopback || (System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && (address.Equals(System.Net.IPAddress.Any) || address.Equals(System.Net.IPAddress.IPv6Any)));

    public static void ResolvePaths(EtcdOptions etcd, Func<string, string> full)
    {
        etcd.PasswordFile = etcd.PasswordFile is null ? null : full(etcd.PasswordFile);
        etcd.CaFile = etcd.CaFile is null ? null : full(etcd.CaFile);
        etcd.CertFile = etcd.CertFile is null ? null : full(etcd.CertFile);
        etcd.KeyFile = etcd.KeyFile is null ? null : full(etcd.KeyFile);
    }

    public static void CheckLoads<T>(string? path, string key, string baseDirectory, Action<string, string> problem, Func<string, T> load)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            load(Path.Combine(baseDirectory, path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            problem(key, $"cannot load {path}: {e.Message}");
        }
    }
}
