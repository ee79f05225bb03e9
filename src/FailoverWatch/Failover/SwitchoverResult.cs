namespace FailoverWatch.Failover;

/// <summary>How a switchover went; <see cref="Succeeded"/> false means refused or failed, with the reason.</summary>
internal sealed record SwitchoverResult(bool Succeeded, string From, string To, string Message, double Seconds);
