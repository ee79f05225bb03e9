namespace FailoverWatch.Configuration;

/// <summary>The whole configuration file. Property names map to snake_case YAML keys.</summary>
internal sealed class FailoverWatchOptions
{
    public ClusterOptions Cluster { get; set; } = new();
    public MonitorOptions Monitor { get; set; } = new();
    public HooksOptions Hooks { get; set; } = new();
    public BackupOptions? Backup { get; set; }
    public HttpOptions Http { get; set; } = new();
    public TelemetryOptions Telemetry { get; set; } = new();
    public CoordinationOptions? Coordination { get; set; }
    public ReplicationOptions Replication { get; set; } = new();
}

internal sealed class ClusterOptions
{
    public string Name { get; set; } = "";
    public List<NodeOptions> Nodes { get; set; } = [];

    // Methods, not properties: YamlBinder binds every public property.

    /// <summary>The node named <paramref name="name"/>, one the configuration must have (a name taken from it or checked against it).</summary>
    public NodeOptions Node(string name) =>
        FindNode(name) ?? throw new InvalidOperationException($"cluster.nodes: no node named '{name}'");

    /// <summary>The node named <paramref name="name"/>, or null when the configuration has none of that name.</summary>
    public NodeOptions? FindNode(string name) => Nodes.FirstOrDefault(n => n.Name == name);

    /// <summary>Whether the host rejoins <paramref name="node"/> itself: it is configured with a rejoin_command.</summary>
    public bool HasRejoinCommand(string node) => FindNode(node)?.HasRejoinCommand() == true;
}

internal sealed class NodeOptions
{
    public string Name { get; set; } = "";
    public string Host { get; set; } = "";
    public int Port { get; set; } = 5432;
    public string User { get; set; } = "failoverwatch";
    public string Database { get; set; } = "postgres";
    public string? PasswordFile { get; set; }
    public string? StopCommand { get; set; }
    public string? FenceCommand { get; set; }
    /// <summary>Brings this node back as a standby of the new primary (<c>failoverwatch rejoin</c> on its host, usually over ssh).</summary>
    public string? RejoinCommand { get; set; }
    /// <summary>The role rejoin_command's pg_rewind reads the new primary with (doctor checks its grants); default <see cref="User"/>.</summary>
    public string? RejoinUser { get; set; }

    /// <summary>Whether the host rejoins this node itself. A method: YamlBinder binds every public property.</summary>
    public bool HasRejoinCommand() => !string.IsNullOrWhiteSpace(RejoinCommand);
}

internal sealed class MonitorOptions
{
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);
    public int FailureThreshold { get; set; } = 3;
    public bool AutoFailover { get; set; } = true;
    public ByteSize MaxLagOnFailover { get; set; } = ByteSize.FromMegabytes(16);
    public bool WriteProbe { get; set; }

    /// <summary>How long a standby may take, after pg_promote, to finish recovery and accept writes before the promotion counts as failed.</summary>
    public TimeSpan PromotionTimeout { get; set; } = TimeSpan.FromSeconds(60);
    public string StateFile { get; set; } = "/var/lib/failoverwatch/state.json";
    /// <summary>How often the host re-runs the doctor's checks for <c>failoverwatch_failover_ready</c> (also after any role change).</summary>
    public TimeSpan ReadinessInterval { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>Bound on one rejoin_command run (the rejoin itself never kills a running pg_rewind).</summary>
    public TimeSpan RejoinTimeout { get; set; } = TimeSpan.FromMinutes(30);
    /// <summary>A failed rejoin is tried again this long after.</summary>
    public TimeSpan RejoinRetry { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>Cron (UTC) of the host's drill; empty: never.</summary>
    public string? DrillSchedule { get; set; }
}

internal sealed class HooksOptions
{
    public string? OnFailover { get; set; }
    public string? OnSplitBrain { get; set; }
    /// <summary>Bound on every hook, fence and stop command.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

internal sealed class HttpOptions
{
    public string Listen { get; set; } = "127.0.0.1:9797";
    public string? AdminTokenFile { get; set; }

    /// <summary>With coordination: the URL the other monitors reach this one at (forwarded control requests); default http://LISTEN.</summary>
    public string? Advertise { get; set; }

    /// <summary>Serve https, and verify the other monitors' https (and the CLI's view of this one) against ca_file.</summary>
    public HttpTlsOptions? Tls { get; set; }
}

internal sealed class TelemetryOptions
{
    public string? OtlpEndpoint { get; set; }
}
