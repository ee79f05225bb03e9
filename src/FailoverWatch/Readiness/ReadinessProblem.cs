namespace FailoverWatch.Readiness;

/// <summary>
/// One reason a failover would not work now, printed as <c>SUBJECT: problem</c>. The subject is a node, or a
/// configuration key for what belongs to no node. <paramref name="BlocksEveryStandby"/>: it stops a failover to
/// any standby (a hook or the primary's fence that cannot run), not only to the subject.
/// <paramref name="SubjectStaysReady"/>: the subject's own, but promoting it would still work (what it breaks is
/// the subject following a failover to another node).
/// </summary>
internal sealed record ReadinessProblem(string Subject, string Problem, bool BlocksEveryStandby = false, bool SubjectStaysReady = false)
{
    /// <summary>Whether it stops a failover to <paramref name="node"/>.</summary>
    public bool Blocks(string node) => BlocksEveryStandby || (Subject == node && !SubjectStaysReady);

    public override string ToString() => $"{Subject}: {Problem}";
}
