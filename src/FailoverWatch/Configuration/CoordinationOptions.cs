namespace FailoverWatch.Configuration;

/// <summary><c>coordination:</c> several monitors sharing one decision through etcd. Absent: one monitor, the state file.</summary>
internal sealed class CoordinationOptions
{
    /// <summary>Unique per monitor; the host name when not given.</summary>
    public string? MonitorName { get; set; }

    public EtcdOptions Etcd { get; set; } = new();

    public string Name => string.IsNullOrWhiteSpace(MonitorName) ? Environment.MachineName : MonitorName;
}

internal sealed class EtcdOptions
{
    public List<string> Endpoints { get; set; } = [];

    public string Prefix { get; set; } = "/failoverwatch";

    /// <summary>A dead leader is replaced within about this; each monitor renews its lease every third of it.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(5);

    public string? Username { get; set; }
    public string? PasswordFile { get; set; }
    public string? CaFile { get; set; }
    public string? CertFile { get; set; }
    public string? KeyFile { get; set; }
}
