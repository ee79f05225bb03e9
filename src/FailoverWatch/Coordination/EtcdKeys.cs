namespace FailoverWatch.Coordination;

/// <summary>The cluster's keys: <c>PREFIX/CLUSTER/leader</c>, <c>.../state</c>, <c>.../action</c>, <c>.../monitors/NAME</c>, <c>.../incidents/ID</c>.</summary>
internal sealed record EtcdKeys(string Root)
{
    public static EtcdKeys For(string prefix, string cluster) => new($"{prefix}/{cluster}/");

    public string Leader => Root + "leader";

    public string State => Root + "state";

    /// <summary>The last action the leader guarded (<see cref="ActionGuard"/>).</summary>
    public string Action => Root + "action";

    /// <summary>The switchover under way, if any (<see cref="SwitchoverRecord"/>).</summary>
    public string Switchover => Root + "switchover";

    public string Monitors => Root + "monitors/";

    public string Monitor(string name) => Monitors + name;

    /// <summary>A monitor's view: a key under <see cref="Monitors"/>, among the group's others.</summary>
    public bool IsMonitor(string key) => key.StartsWith(Monitors, StringComparison.Ordinal);

    /// <summary>One key per incident, out of the state so the state stays small (<see cref="EtcdIncidents"/>).</summary>
    public string Incidents => Root + "incidents/";

    public string Incident(string id) => Incidents + id;
}
