using FailoverWatch.Readiness;

namespace FailoverWatch.Tests.Readiness;

/// <summary>
/// Who may ALTER SYSTEM, by server version: has_parameter_privilege and GRANT ... ON PARAMETER exist from PostgreSQL 15;
/// before it only a superuser may, and the finding says so rather than name a GRANT that server does not have.
/// </summary>
public sealed class AlterSystemGrantTests
{
    [Theory]
    [InlineData(13, "current_setting('is_superuser')::bool", "ALTER ROLE fw SUPERUSER: before PostgreSQL 15 only a superuser may ALTER SYSTEM")]
    [InlineData(14, "current_setting('is_superuser')::bool", "ALTER ROLE fw SUPERUSER: before PostgreSQL 15 only a superuser may ALTER SYSTEM")]
    [InlineData(15, "has_parameter_privilege('primary_conninfo', 'ALTER SYSTEM')", "GRANT ALTER SYSTEM ON PARAMETER primary_conninfo TO fw")]
    [InlineData(17, "has_parameter_privilege('primary_conninfo', 'ALTER SYSTEM')", "GRANT ALTER SYSTEM ON PARAMETER primary_conninfo TO fw")]
    public void before_15_only_a_superuser_may_alter_system_and_the_finding_says_so(int major, string sql, string fix)
    {
        Assert.Equal(sql, AlterSystemGrant.Sql("primary_conninfo", major));
        Assert.Equal(fix, AlterSystemGrant.Fix("fw", "primary_conninfo", major));
        Assert.EndsWith($"({fix})", RepointGrantsCheck.Problem("fw", readSettings: true, alterSystem: false, reload: true, major), StringComparison.Ordinal);
    }
}
