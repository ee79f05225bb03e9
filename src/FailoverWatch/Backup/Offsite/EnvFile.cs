using System.Globalization;

namespace FailoverWatch.Backup.Offsite;

/// <summary>
/// <c>KEY=VALUE</c> lines as systemd's EnvironmentFile and restic's docs write them: blank lines and <c>#</c> comments
/// skipped, an optional <c>export </c>, values optionally in matching quotes. Errors name the line, never its content:
/// the file holds credentials.
/// </summary>
internal static class EnvFile
{
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            var key = equals > 0 ? line[..equals].Trim() : "";
            if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || char.IsAsciiDigit(key[0]))
            {
                throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{path}: line {i + 1} is not KEY=VALUE"));
            }

            var value = line[(equals + 1)..].Trim();
            if (value.Length >= 2 && (value[0] is '"' or '\'') && value[^1] == value[0])
            {
                value = value[1..^1];
            }

            variables[key] = value;
        }

        return variables;
    }
}
