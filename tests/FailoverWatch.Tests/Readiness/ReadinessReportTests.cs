using FailoverWatch.Readiness;
using static FailoverWatch.Tests.Failover.Reports;

namespace FailoverWatch.Tests.Readiness;

public sealed class ReadinessReportTests
{
    [Fact]
    public void a_standby_is_ready_without_problems_of_its_own_and_the_primary_has_no_entry()
    {
        var view = View("pg1", null, Primary("pg1"), Standby("pg2", streaming: true), Standby("pg3", streaming: true));
        var report = ReadinessReport.From(view, "pg1", [new ReadinessProblem("pg3", "role x may not EXECUTE pg_promote()"), new ReadinessProblem("backup.destination", "cannot write")], Now);
        Assert.True(report.Standbys["pg2"]);
        Assert.False(report.Standbys["pg3"]);
        Assert.False(report.Standbys.ContainsKey("pg1"));
        Assert.Equal(["pg3: role x may not EXECUTE pg_promote()", "backup.destination: cannot write"], report.ProblemLines);
    }

    [Fact]
    public void a_problem_that_blocks_every_failover_makes_no_standby_ready_and_says_so()
    {
        var view = View("pg1", null, Primary("pg1"), Standby("pg2", streaming: true));
        var report = ReadinessReport.From(view, "pg1", [new ReadinessProblem("hooks.on_failover", "cannot run", BlocksEveryStandby: true)], Now);
        Assert.False(report.Standbys["pg2"]);
        Assert.Contains("cluster: no standby is ready to be promoted", report.ProblemLines);
    }

    [Fact]
    public void a_problem_that_leaves_its_subject_ready_is_listed_but_keeps_the_standby_ready()
    {
        var view = View("pg1", null, Primary("pg1"), Standby("pg2", streaming: true));
        var report = ReadinessReport.From(view, "pg1", [new ReadinessProblem("pg2", "cannot be repointed", SubjectStaysReady: true)], Now);
        Assert.True(report.Standbys["pg2"]);
        Assert.Equal(["pg2: cannot be repointed"], report.ProblemLines);
    }

    [Theory]
    [InlineData(true, true, true, null)]
    [InlineData(false, true, true, "GRANT pg_read_all_settings TO fw")]
    [InlineData(true, false, true, "GRANT ALTER SYSTEM ON PARAMETER primary_conninfo TO fw")]
    [InlineData(true, true, false, "GRANT EXECUTE ON FUNCTION pg_reload_conf() TO fw")]
    [InlineData(false, false, false, "GRANT pg_read_all_settings TO fw; GRANT ALTER SYSTEM ON PARAMETER primary_conninfo TO fw; GRANT EXECUTE ON FUNCTION pg_reload_conf() TO fw")]
    [InlineData(false, true, false, "GRANT pg_read_all_settings TO fw; GRANT EXECUTE ON FUNCTION pg_reload_conf() TO fw")]
    public void repointing_a_standby_names_exactly_the_grants_its_role_lacks(bool readSettings, bool alterSystem, bool reload, string? grants)
    {
        var problem = RepointGrantsCheck.Problem("fw", readSettings, alterSystem, reload);
        if (grants is null)
        {
            Assert.Null(problem);
            return;
        }

        Assert.NotNull(problem);
        Assert.StartsWith("role fw cannot point this standby at a new primary", problem, StringComparison.Ordinal);
        Assert.EndsWith($"({grants})", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void a_down_node_is_not_ready()
    {
        var report = ReadinessReport.From(View("pg1", null, Primary("pg1"), Down("pg2")), "pg1", [], Now);
        Assert.False(report.Standbys["pg2"]);
    }

    [Theory]
    [InlineData("/usr/local/bin/repoint --now", "/usr/local/bin/repoint")]
    [InlineData("PGPASSFILE=/x FOO=1 psql -c RELOAD", "psql")]
    [InlineData("echo \\\"$FW_EVENT\\\" >> f; pg_ctl stop", "echo")]
    [InlineData("   ", null)]
    public void the_program_of_a_command_line_is_its_first_word_after_assignments(string commandLine, string? program)
    {
        Assert.Equal(program, CommandCheck.FirstWord(commandLine));
    }
}
