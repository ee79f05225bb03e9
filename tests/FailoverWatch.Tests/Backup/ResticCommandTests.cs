using FailoverWatch.Backup.Offsite;
using FailoverWatch.Configuration;
using FailoverWatch.Processes;

namespace FailoverWatch.Tests.Backup;

/// <summary>
/// Our own masking of a password in the repository URL, not restic's: restic masks URLs it prints itself, so a real
/// run cannot show ours failing. Fed the raw URL, as an older restic or a backend's error text may print it.
/// </summary>
public sealed class ResticCommandTests
{
    private static readonly ResticCommand Command = new(new ResticOptions { Repository = "rest:https://backup:s3cret-pw@vault.example:8000/mastodon", PasswordFile = "/etc/fw/restic-password" });

    [Fact]
    public void a_password_in_the_repository_url_is_masked_where_it_is_shown()
    {
        Assert.Equal("rest:https://backup:***@vault.example:8000/mastodon", Command.DisplayRepository);
    }

    [Theory]
    [InlineData("Fatal: unable to open repository at rest:https://backup:s3cret-pw@vault.example:8000/mastodon: 500 Internal Server Error")]
    [InlineData("Is there a repository at the following location?\nrest:https://backup:s3cret-pw@vault.example:8000/mastodon")]
    public void a_failure_naming_the_repository_never_carries_its_password(string stderr)
    {
        var message = Command.Failure(new ProcessResult(1, "", stderr, TimedOut: false)).Message;
        Assert.DoesNotContain("s3cret-pw", message, StringComparison.Ordinal);
        Assert.Contains("backup:***@vault.example", message, StringComparison.Ordinal);
    }
}
