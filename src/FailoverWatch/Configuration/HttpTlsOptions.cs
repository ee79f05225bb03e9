namespace FailoverWatch.Configuration;

/// <summary><c>http.tls</c>: the endpoint serves https with cert_file/key_file; ca_file verifies the other monitors' (and this one's, for the CLI).</summary>
internal sealed class HttpTlsOptions
{
    /// <summary>PEM: this monitor's certificate first, then any intermediates.</summary>
    public string? CertFile { get; set; }
    public string? KeyFile { get; set; }

    /// <summary>PEM: the only CA trusted for the other monitors' certificates; default the system's trust store.</summary>
    public string? CaFile { get; set; }
}
