namespace FailoverWatch.Readiness;

/// <summary>
/// Whether the session's role may ALTER SYSTEM SET a parameter, by server version: from PostgreSQL 15 a grant on the
/// parameter allows it (<c>has_parameter_privilege</c>, which does not exist before); before 15 only a superuser may.
/// </summary>
internal static class AlterSystemGrant
{
    /// <summary>The first major version with GRANT ALTER SYSTEM ON PARAMETER and has_parameter_privilege.</summary>
    public const int ParameterGrantsFrom = 15;

    /// <summary>A boolean SQL expression, true when the session's role may ALTER SYSTEM SET <paramref name="parameter"/>.</summary>
    public static string Sql(string parameter, int serverMajor) =>
        serverMajor >= ParameterGrantsFrom ? $"has_parameter_privilege('{parameter}', 'ALTER SYSTEM')" : "current_setting('is_superuser')::bool";

    /// <summary>What gives <paramref name="user"/> that right, for a finding's sentence.</summary>
    public static string Fix(string user, string parameter, int serverMajor) =>
        serverMajor >= ParameterGrantsFrom
            ? $"GRANT ALTER SYSTEM ON PARAMETER {parameter} TO {user}"
            : $"ALTER ROLE {user} SUPERUSER: before PostgreSQL {ParameterGrantsFrom} only a superuser may ALTER SYSTEM";
}
