using FailoverWatch.Configuration;

namespace FailoverWatch.Tests.Configuration;

public sealed partial class ConfigValidationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-config-").FullName;

    private const string Nodes = """
        cluster:
          name: test
          nodes:
            - { name: pg1, host: 127.0.0.1, port: 5432 }
            - { name: pg2, host: 127.0.0.1, port: 5433 }

        """;

    private const string Valid = Nodes + """
        monitor:
          probe_interval: 500ms
          probe_timeout: 1500ms
          promotion_timeout: 2m
          max_lag_on_failover: 16MB
        """;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private IReadOnlyList<ConfigProblem> Problems(string yaml) => ConfigLoader.Parse(yaml, _directory).Problems;

    [Fact]
    public void valid_file_binds_every_value()
    {
        var (options, problems) = ConfigLoader.Parse(Valid, _directory);
        Assert.Empty(problems);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options!.Monitor.ProbeInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.Monitor.ProbeTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), options.Monitor.PromotionTimeout);
        Assert.Equal(16L << 20, options.Monitor.MaxLagOnFailover.Bytes);
        Assert.Equal(5433, options.Cluster.Nodes[1].Port);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# nothing set yet\n")]
    [InlineData("monitor:\n  probe_interval: 1s\n")]
    public void a_file_without_the_cluster_section_names_it_once(string yaml)
    {
        var found = Problems(yaml);
        Assert.Equal("cluster: required (the cluster's name and its nodes)", Assert.Single(found).ToString());
    }

    [Fact]
    public void auto_failover_without_a_fence_command_is_valid_but_warned_per_node()
    {
        var (options, problems) = ConfigLoader.Parse(Nodes.Replace("port: 5433 }", "port: 5433, fence_command: /bin/true }", StringComparison.Ordinal), _directory);
        Assert.Empty(problems);
        var warning = Assert.Single(ConfigValidator.Warnings(options!));
        Assert.Equal("cluster.nodes[0].fence_command", warning.Key);
        Assert.Contains("auto_failover", warning.Problem, StringComparison.Ordinal);

        var (manual, _) = ConfigLoader.Parse(Nodes + "monitor:\n  auto_failover: false\n", _directory);
        Assert.Empty(ConfigValidator.Warnings(manual!));
    }

    [Fact]
    public void example_config_in_repository_is_valid_apart_from_missing_secret_files()
    {
        var example = File.ReadAllText(Path.Combine(RepositoryRoot(), "config", "failoverwatch.example.yaml"));
        var keys = ConfigLoader.Parse(example, _directory).Problems.Select(p => p.Key).ToHashSet();
        // An unreadable secrets file to back up is a warning of check-config (BackupSourceWarnings), never a problem that stops run.
        Assert.Subset(new HashSet<string> { "cluster.nodes[0].password_file", "cluster.nodes[1].password_file", "http.admin_token_file" }, keys);
        Assert.DoesNotContain("backup.secrets.paths[0]", keys);
    }

    [Theory]
    [InlineData("monitor:\n  probe_intervl: 1s", "monitor.probe_intervl", "unknown key")]
    [InlineData("monitor:\n  probe_interval: 5x", "monitor.probe_interval", "not a duration")]
    [InlineData("monitor:\n  probe_timeout: -1s", "monitor.probe_timeout", "not a duration")]
    [InlineData("monitor:\n  probe_timeout: 0s", "monitor.probe_timeout", "above zero")]
    [InlineData("monitor:\n  promotion_timeout: 0s", "monitor.promotion_timeout", "above zero")]
    [InlineData("monitor:\n  max_lag_on_failover: 16XB", "monitor.max_lag_on_failover", "not a size")]
    [InlineData("monitor:\n  failure_threshold: 0", "monitor.failure_threshold", "1 or more")]
    [InlineData("monitor:\n  failure_threshold: 101", "monitor.failure_threshold", "above 100")]
    [InlineData("monitor:\n  probe_interval: 2m", "monitor.probe_interval", "120s is above the limit of 60s")]
    [InlineData("monitor:\n  probe_timeout: 61s", "monitor.probe_timeout", "61s is above the limit of 60s")]
    [InlineData("monitor:\n  promotion_timeout: 31m", "monitor.promotion_timeout", "1860s is above the limit of 1800s")]
    [InlineData("hooks:\n  timeout: 11m", "hooks.timeout", "660s is above the limit of 600s")]
    [InlineData("monitor:\n  write_probe: maybe", "monitor.write_probe", "not true or false")]
    [InlineData("http:\n  listen: localhost", "http.listen", "address:port")]
    [InlineData("backup:\n  destination: /tmp/x\n  schedule: \"0 3 * *\"", "backup.schedule", "not a cron expression")]
    [InlineData("backup:\n  destination: /tmp/x\n  postgres: { from: replica }", "backup.postgres.from", "standby or primary")]
    [InlineData("colour: blue", "colour", "unknown key")]
    public void bad_value_is_named_by_its_key(string extra, string key, string problem)
    {
        var found = Problems(Nodes + extra);
        Assert.Contains(found, p => p.Key == key && p.Problem.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void missing_nodes_is_an_error()
    {
        var found = Problems("cluster:\n  name: test\n");
        Assert.Contains(found, p => p.Key == "cluster.nodes" && p.Problem.Contains("at least two", StringComparison.Ordinal));
    }

    [Fact]
    public void one_node_is_too_few()
    {
        var found = Problems("cluster:\n  name: t\n  nodes:\n    - { name: pg1, host: h }\n");
        Assert.Contains(found, p => p.Key == "cluster.nodes" && p.Problem.Contains("found 1", StringComparison.Ordinal));
    }

    [Fact]
    public void duplicate_node_names_are_an_error()
    {
        var found = Problems("cluster:\n  name: t\n  nodes:\n    - { name: pg1, host: a }\n    - { name: pg1, host: b }\n");
        Assert.Contains(found, p => p.Key == "cluster.nodes[1].name" && p.Problem.Contains("duplicate", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("70000")]
    [InlineData("-5")]
    public void port_out_of_range_is_an_error(string port)
    {
        var found = Problems($"cluster:\n  name: t\n  nodes:\n    - {{ name: pg1, host: a, port: {port} }}\n    - {{ name: pg2, host: b }}\n");
        Assert.Contains(found, p => p.Key == "cluster.nodes[0].port" && p.Problem.Contains("out of range", StringComparison.Ordinal));
    }

    [Fact]
    public void port_that_is_not_a_number_is_an_error()
    {
        var found = Problems("cluster:\n  name: t\n  nodes:\n    - { name: pg1, host: a, port: five }\n    - { name: pg2, host: b }\n");
        Assert.Contains(found, p => p.Key == "cluster.nodes[0].port" && p.Problem.Contains("whole number", StringComparison.Ordinal));
    }

    [Fact]
    public void unreadable_password_file_is_an_error_that_does_not_show_the_password()
    {
        var found = Problems("cluster:\n  name: t\n  nodes:\n    - { name: pg1, host: a, password_file: /nonexistent/pw }\n    - { name: pg2, host: b }\n");
        Assert.Contains(found, p => p.Key == "cluster.nodes[0].password_file" && p.Problem.Contains("cannot read", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("  restore_test_schedule: every sunday\n  postgres: {}\n", "is not a cron expression")]
    [InlineData("  restore_test_schedule: 0 4 * * 0\n", "needs backup.postgres")]
    public void restore_test_schedule_is_a_cron_expression_over_a_dump(string backupLines, string problem)
    {
        var found = Problems("cluster:\n  name: t\n  nodes:\n    - { name: pg1, host: a }\n    - { name: pg2, host: b }\nbackup:\n  destination: /tmp/x\n" + backupLines);
        Assert.Contains(found, p => p.Key == "backup.restore_test_schedule" && p.Problem.Contains(problem, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("  offsite: {}\n", "backup.offsite", "exactly one of path")]
    [InlineData("  offsite: { path: /mnt/x, restic: { repository: /r, password_file: pw } }\n", "backup.offsite", "exactly one of path")]
    [InlineData("  offsite: { restic: { password_file: pw } }\n", "backup.offsite.restic.repository", "missing")]
    [InlineData("  offsite: { restic: { repository: /r } }\n", "backup.offsite.restic.password_file", "missing")]
    [InlineData("  offsite: { restic: { repository: /r, password_file: /nonexistent/pw } }\n", "backup.offsite.restic.password_file", "cannot read")]
    [InlineData("  offsite: { restic: { repository: /r, password_file: pw, env_file: bad.env } }\n", "backup.offsite.restic.env_file", "line 2 is not KEY=VALUE")]
    [InlineData("  offsite: { restic: { repository: /r, password_file: pw, timeout: 0s } }\n", "backup.offsite.restic.timeout", "above zero")]
    [InlineData("  offsite: { restic: { repository: /r, password_file: pw, passwrd: x } }\n", "backup.offsite.restic.passwrd", "unknown key")]
    [InlineData("  postgres: { max_standby_delay: 0s }\n", "backup.postgres.max_standby_delay", "above zero")]
    public void offsite_and_standby_delay_problems_are_named_by_their_key(string backupLines, string key, string problem)
    {
        File.WriteAllText(Path.Combine(_directory, "pw"), "secret\n");
        File.WriteAllText(Path.Combine(_directory, "bad.env"), "AWS_ACCESS_KEY_ID=AKIA\nAWS_SECRET_ACCESS_KEY hunter2\n");
        var found = Problems("cluster:\n  name: t\n  nodes:\n    - { name: pg1, host: a }\n    - { name: pg2, host: b }\nbackup:\n  destination: /tmp/x\n" + backupLines);
        Assert.Contains(found, p => p.Key == key && p.Problem.Contains(problem, StringComparison.Ordinal));
        Assert.DoesNotContain(found, p => p.Problem.Contains("hunter2", StringComparison.Ordinal));
    }

    [Fact]
    public void a_restic_offsite_with_an_env_file_is_valid_and_its_paths_are_taken_from_the_config_folder()
    {
        File.WriteAllText(Path.Combine(_directory, "pw"), "secret\n");
        File.WriteAllText(Path.Combine(_directory, "restic.env"), "# backend\nexport AWS_ACCESS_KEY_ID=AKIA\nAWS_SECRET_ACCESS_KEY=\"a b=c\"\n\n");
        var (options, problems) = ConfigLoader.Parse(Nodes + "backup:\n  destination: /tmp/x\n  offsite: { restic: { repository: \"s3:s3.amazonaws.com/b\", password_file: pw, env_file: restic.env } }\n", _directory);
        Assert.Empty(problems);
        var restic = options!.Backup!.Offsite!.Restic!;
        Assert.Equal(Path.Combine(_directory, "pw"), restic.PasswordFile);
        Assert.Equal(
            new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = "AKIA", ["AWS_SECRET_ACCESS_KEY"] = "a b=c" },
            FailoverWatch.Backup.Offsite.EnvFile.Read(restic.EnvFile!));
    }

    [Fact]
    public void unreadable_redis_password_file_is_an_error()
    {
        var found = Problems("cluster:\n  name: t\n  nodes:\n    - { name: pg1, host: a }\n    - { name: pg2, host: b }\nbackup:\n  destination: /tmp/x\n  redis: { password_file: /nonexistent/redis-pw }\n");
        Assert.Contains(found, p => p.Key == "backup.redis.password_file" && p.Problem.Contains("cannot read", StringComparison.Ordinal));
    }

    [Fact]
    public void every_problem_is_reported_not_just_the_first()
    {
        var found = Problems("cluster:\n  name: t\n  nodes:\n    - { name: pg1, host: a, port: 0 }\n    - { name: pg1, host: b }\nmonitor:\n  probe_interval: 5x\n  bogus: 1\n");
        Assert.True(found.Count >= 4, string.Join("\n", found));
    }

    [Fact]
    public void invalid_yaml_names_the_line()
    {
        var found = Problems("cluster: [unclosed\n");
        Assert.Contains(found, p => p.Key == "config" && p.Problem.Contains("line", StringComparison.Ordinal));
    }

    [Fact]
    public void relative_paths_are_taken_from_the_config_folder()
    {
        var (options, problems) = ConfigLoader.Parse(Valid + "\n  state_file: state/fw.json\n", _directory);
        Assert.Empty(problems);
        Assert.Equal(Path.Combine(_directory, "state", "fw.json"), options!.Monitor.StateFile);
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "FailoverWatch.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
