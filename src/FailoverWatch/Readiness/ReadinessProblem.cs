namespace FailoverWatch.Readiness;

/// <summary>
/// One reason a failover would not work now, printed as <c>SUBJECT: problem</c>. The subject is a node, or a
/// configuration key for what belongs to no node. <paramref name="BlocksEveryStandby"/>: it stops a failover to
/// any standby (a hook or the primary's fence that cannot run), not only to the subject.
/// </summary>
internal sealed record ReadinessProblem(string Subject, string Problem, bool BlocksEveryStandby = false)
{
    public override string ToString() => $"{Subject}: {Problem}";
}
