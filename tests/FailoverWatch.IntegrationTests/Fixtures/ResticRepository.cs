using System.Text.Json;
using FailoverWatch.Processes;
using FailoverWatch.Storage;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>A real restic repository (format 2) for a test: local path or any backend, its password file, restic run by hand.</summary>
internal sealed class ResticRepository
{
    private ResticRepository(string repository, string passwordFile, string? sftpCommand)
    {
        Repository = repository;
        PasswordFile = passwordFile;
        SftpCommand = sftpCommand;
    }

    public string Repository { get; }

    public string PasswordFile { get; }

    /// <summary>The password written to a password file made here.</summary>
    public const string Password = "correct horse battery staple";

    public string? SftpCommand { get; }

    /// <summary>The <c>offsite:</c> block of the backup section.</summary>
    public string Yaml(string? passwordFile = null, string? envFile = null) =>
        $$"""
          offsite:
            restic:
              repository: "{{Repository}}"
              password_file: {{passwordFile ?? PasswordFile}}
              options: [{{(SftpCommand is null ? "" : $"\"sftp.command={SftpCommand}\"")}}]
              {{(envFile is null ? "" : $"env_file: {envFile}")}}
        """;

    /// <summary>A repository at <paramref name="repository"/>, created by <c>restic init</c> unless <paramref name="init"/> is false.</summary>
    public static async Task<ResticRepository> CreateAsync(string repository, string passwordFile, string? sftpCommand = null, bool init = true)
    {
        if (!File.Exists(passwordFile))
        {
            await File.WriteAllTextAsync(passwordFile, Password + "\n");
            File.SetUnixFileMode(passwordFile, DurableFiles.OwnerOnly);
        }

        var created = new ResticRepository(repository, passwordFile, sftpCommand);
        if (init)
        {
            await created.RunAsync("init", "--repository-version", "2");
        }

        return created;
    }

    public async Task<ProcessResult> RunAsync(params string[] arguments)
    {
        string[] options = SftpCommand is null ? [] : ["-o", $"sftp.command={SftpCommand}"];
        var result = await ExternalProcess.RunAsync("restic", [.. options, .. arguments], TimeSpan.FromMinutes(2), CancellationToken.None,
            new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = Repository, ["RESTIC_PASSWORD_FILE"] = PasswordFile });
        Assert.True(result.Succeeded, $"restic {string.Join(' ', arguments)}: {result.Describe()}\n{result.StandardError}");
        return result;
    }

    /// <summary>The tag lists of every snapshot, oldest first.</summary>
    public async Task<List<List<string>>> TagsAsync()
    {
        using var json = JsonDocument.Parse((await RunAsync("snapshots", "--json")).StandardOutput);
        return json.RootElement.EnumerateArray()
            .OrderBy(s => s.GetProperty("time").GetDateTimeOffset())
            .Select(s => s.TryGetProperty("tags", out var tags) ? tags.EnumerateArray().Select(t => t.GetString()!).ToList() : [])
            .ToList();
    }
}
