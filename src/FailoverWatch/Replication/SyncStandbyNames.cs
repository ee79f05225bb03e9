using System.Text;

namespace FailoverWatch.Replication;

/// <summary>
/// The <c>synchronous_standby_names</c> values FailoverWatch writes, and reading them back. It names exactly the
/// standbys each commit must reach (<c>FIRST n</c> over n names): <c>ANY n</c> over more names would leave each commit
/// on only some of them, so no single one could be recorded as holding them all.
/// </summary>
internal static class SyncStandbyNames
{
    public const string Any = "*";

    public static string Format(IReadOnlyList<string> names) => names.Count switch
    {
        0 => "",
        1 => Quote(names[0]),
        _ => $"FIRST {names.Count} ({string.Join(", ", names.Select(Quote))})",
    };

    /// <summary>The names in a value this class wrote; null for any other value (set by hand, <c>*</c>), which is not FailoverWatch's.</summary>
    public static IReadOnlyList<string>? Parse(string setting)
    {
        var text = setting.Trim();
        if (text.Length == 0)
        {
            return [];
        }

        if (text.StartsWith("FIRST ", StringComparison.Ordinal))
        {
            var open = text.IndexOf('(', StringComparison.Ordinal);
            if (open < 0 || !text.EndsWith(')') || !int.TryParse(text.AsSpan(6, open - 6).Trim(), out var count))
            {
                return null;
            }

            var names = QuotedList(text[(open + 1)..^1]);
            return names is not null && names.Count == count ? names : null;
        }

        return QuotedList(text) is [var single] ? [single] : null;
    }

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static List<string>? QuotedList(string text)
    {
        var names = new List<string>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && text[i] == ' ')
            {
                i++;
            }

            if (i >= text.Length || text[i] != '"')
            {
                return null;
            }

            var name = new StringBuilder();
            for (i++; ; i++)
            {
                if (i >= text.Length)
                {
                    return null;
                }

                if (text[i] == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        name.Append('"');
                        i++;
                        continue;
                    }

                    break;
                }

                name.Append(text[i]);
            }

            names.Add(name.ToString());
            for (i++; i < text.Length && text[i] == ' '; i++)
            {
            }

            if (i == text.Length)
            {
                return names;
            }

            if (text[i++] != ',')
            {
                return null;
            }
        }
    }
}
