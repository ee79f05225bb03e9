namespace FailoverWatch.Monitoring;

internal enum NodeRole
{
    Unknown,
    Primary,
    Standby,
}
