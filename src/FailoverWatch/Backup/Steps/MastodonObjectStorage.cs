using FailoverWatch.Backup.Offsite;

namespace FailoverWatch.Backup.Steps;

/// <summary>
/// Whether Mastodon keeps its media in object storage, read as Mastodon reads it: <c>S3_ENABLED</c> in
/// <c>.env.production</c> is exactly <c>true</c> once dotenv's quotes are gone. Such media needs no backup of its own
/// (Mastodon's "Backing up your server"), and <c>public/system</c> need not exist.
/// </summary>
internal static class MastodonObjectStorage
{
    public const string EnvFileName = ".env.production";

    /// <summary>The <c>.env.production</c> among the secrets, or null when none is listed.</summary>
    public static string? EnvFileAmong(IEnumerable<string>? secretPaths) =>
        secretPaths?.FirstOrDefault(p => Path.GetFileName(p) == EnvFileName);

    /// <summary>"in object storage (bucket NAME)" when <paramref name="envFile"/> says <c>S3_ENABLED=true</c>, else null.</summary>
    public static string? Describe(string envFile)
    {
        var variables = EnvFile.Read(envFile);
        if (variables.GetValueOrDefault("S3_ENABLED") != "true")
        {
            return null;
        }

        var bucket = variables.GetValueOrDefault("S3_BUCKET") is { Length: > 0 } named ? named : "not named";
        return $"in object storage (bucket {bucket})";
    }
}
