namespace FailoverWatch.State;

/// <summary>How the recorded primary has fared in recent rounds, as the policy needs it.</summary>
internal sealed record PrimaryHealth(int ConsecutiveFailures, DateTimeOffset? LastSeenAt, DateTimeOffset? LastFailedPromotionAt)
{
    public static PrimaryHealth Initial { get; } = new(0, null, null);
}
