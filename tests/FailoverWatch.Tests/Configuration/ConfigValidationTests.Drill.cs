namespace FailoverWatch.Tests.Configuration;

public sealed partial class ConfigValidationTests
{
    private static string WithRejoinCommands(string yaml) =>
        yaml.Replace("port: 5432 }", "port: 5432, rejoin_command: \"ssh pg1\" }", StringComparison.Ordinal)
            .Replace("port: 5433 }", "port: 5433, rejoin_command: \"ssh pg2\" }", StringComparison.Ordinal);

    [Theory]
    [InlineData("monitor:\n  drill_schedule: \"every sunday\"", "'every sunday' is not a cron expression")]
    [InlineData("monitor:\n  drill_schedule: \"0 4 * * 7 7\"", "is not a cron expression")]
    public void a_drill_schedule_that_is_not_cron_is_named_by_its_key(string extra, string problem)
    {
        var found = Problems(WithRejoinCommands(Nodes) + extra);
        Assert.Contains(found, p => p.Key == "monitor.drill_schedule" && p.Problem.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void a_drill_schedule_needs_a_rejoin_command_on_every_node()
    {
        var found = Problems(Nodes.Replace("port: 5432 }", "port: 5432, rejoin_command: \"ssh pg1\" }", StringComparison.Ordinal) + "monitor:\n  drill_schedule: \"0 4 * * 0\"");
        var problem = Assert.Single(found, p => p.Key == "monitor.drill_schedule");
        Assert.Contains("which pg2 lack(s)", problem.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("monitor:\n  drill_schedule: \"0 4 * * 0\"", "0 4 * * 0")]
    [InlineData("monitor:\n  drill_schedule: \"\"", null)]
    [InlineData("", null)]
    public void a_drill_schedule_binds_and_empty_means_never(string extra, string? schedule)
    {
        var (options, problems) = FailoverWatch.Configuration.ConfigLoader.Parse(WithRejoinCommands(Nodes) + extra, _directory);
        Assert.Empty(problems);
        Assert.Equal(schedule, options!.Monitor.DrillSchedule);
    }
}
