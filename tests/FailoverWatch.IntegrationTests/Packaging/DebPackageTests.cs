using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Processes;

namespace FailoverWatch.IntegrationTests.Packaging;

/// <summary>
/// packaging/build-deb.sh's package installed by dpkg into an empty root (no packages, an /etc with root
/// alone), and the executable it installed run from there.
/// </summary>
public sealed class DebPackageTests
{
    private static readonly TimeSpan Publish = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task Installs_into_a_clean_root_with_its_user_state_folder_and_unit_and_checks_a_config()
    {
        using var temp = new TempDirectory();
        var binary = MonitorProcess.PublishedBinary ?? await PublishAsync(temp.File("publish"));
        var build = await Run(RepositoryFiles.Path("packaging", "build-deb.sh"), binary, temp.File("out"));
        var deb = build.StandardOutput.Trim().Split('\n')[^1];

        var root = temp.File("root");
        foreach (var folder in (string[])["etc", "var/lib/dpkg/info", "var/lib/dpkg/updates"])
        {
            Directory.CreateDirectory(Path.Combine(root, folder));
        }

        await File.WriteAllTextAsync(Path.Combine(root, "var/lib/dpkg/status"), "");
        await File.WriteAllTextAsync(Path.Combine(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        await File.WriteAllTextAsync(Path.Combine(root, "etc/group"), "root:x:0:\n");
        await File.WriteAllTextAsync(Path.Combine(root, "etc/shadow"), "root:*:19000:0:99999:7:::\n");
        await File.WriteAllTextAsync(Path.Combine(root, "etc/gshadow"), "root:*::\n");
        // The root has no libc6 package to satisfy Depends, and no shell to chroot into: scripts run outside, told DPKG_ROOT.
        await Run("dpkg", $"--root={root}", "--force-script-chrootless", "--force-depends", "-i", deb);

        var account = (await File.ReadAllLinesAsync(Path.Combine(root, "etc/passwd"))).Single(l => l.StartsWith("failoverwatch:", StringComparison.Ordinal)).Split(':');
        Assert.Equal(["/var/lib/failoverwatch", "/usr/sbin/nologin"], account[5..]);
        Assert.True(int.Parse(account[2], System.Globalization.CultureInfo.InvariantCulture) < 1000, "a system account");
        var state = new DirectoryInfo(Path.Combine(root, "var/lib/failoverwatch"));
        Assert.Equal(account[2], (await Run("stat", "-c", "%u", state.FullName)).StandardOutput.Trim());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute, state.UnixFileMode);
        var unit = await File.ReadAllTextAsync(Path.Combine(root, "lib/systemd/system/failoverwatch.service"));
        Assert.Contains("ExecStart=/usr/bin/failoverwatch run --config /etc/failoverwatch/failoverwatch.yaml", unit, StringComparison.Ordinal);
        Assert.Contains("User=failoverwatch", unit, StringComparison.Ordinal);
        Assert.Contains("MemoryDenyWriteExecute=true", unit, StringComparison.Ordinal);
        // The restore test's own account and the socket unit through which the service (not root) reaches it.
        Assert.Contains(await File.ReadAllLinesAsync(Path.Combine(root, "etc/passwd")), l => l.StartsWith("failoverwatch-restore:", StringComparison.Ordinal) && l.EndsWith(":/nonexistent:/usr/sbin/nologin", StringComparison.Ordinal));
        Assert.Contains("SocketUser=failoverwatch", await File.ReadAllTextAsync(Path.Combine(root, "lib/systemd/system/failoverwatch-restore.socket")), StringComparison.Ordinal);
        Assert.Contains("User=failoverwatch-restore", await File.ReadAllTextAsync(Path.Combine(root, "lib/systemd/system/failoverwatch-restore@.service")), StringComparison.Ordinal);

        // The installed example names files an operator still has to write: each one reported, exit 2.
        var installed = Path.Combine(root, "usr/bin/failoverwatch");
        var example = await ExternalProcess.RunAsync(installed, ["check-config", "--config", Path.Combine(root, "etc/failoverwatch/failoverwatch.yaml")], TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.Equal(2, example.ExitCode);
        Assert.Contains("cluster.nodes[0].password_file: cannot read /etc/failoverwatch/pg-password", example.StandardOutput + example.StandardError, StringComparison.Ordinal);

        // Once they exist, the same executable accepts the configuration.
        var config = Path.Combine(root, "etc/failoverwatch/complete.yaml");
        await File.WriteAllTextAsync(config, """
            cluster:
              name: packaged
              nodes:
                - { name: pg1, host: 127.0.0.1, port: 5432, user: failoverwatch }
                - { name: pg2, host: 127.0.0.1, port: 5433, user: failoverwatch }
            monitor:
              state_file: /var/lib/failoverwatch/state.json
            http:
              listen: 127.0.0.1:9187
            """);
        var valid = await ExternalProcess.RunAsync(installed, ["check-config", "--config", config], TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.True(valid.ExitCode == 0, valid.StandardOutput + valid.StandardError);
        Assert.Contains("configuration is valid", valid.StandardOutput, StringComparison.Ordinal);
    }

    private static async Task<string> PublishAsync(string folder)
    {
        await Run("dotnet", "publish", RepositoryFiles.Path("src", "FailoverWatch"), "-c", "Release", "-o", folder, "-v", "q", "-nologo");
        return Path.Combine(folder, "failoverwatch");
    }

    private static async Task<ProcessResult> Run(string program, params string[] arguments)
    {
        var result = await ExternalProcess.RunAsync(program, arguments, Publish, CancellationToken.None);
        Assert.True(result.Succeeded, $"{program} {string.Join(' ', arguments)}: {result.Describe()}\n{result.StandardOutput}{result.StandardError}");
        return result;
    }
}
