using System.Text;
using Npgsql;

namespace FailoverWatch.Rejoin;

/// <summary>
/// A libpq connection string (<c>host=10.0.0.12 port=5432 user=rewind</c>), as pg_rewind and <c>primary_conninfo</c>
/// take it; also turned into Npgsql's form for our own queries. Passwords come from ~/.pgpass or PGPASSWORD, as for libpq.
/// </summary>
internal sealed class Conninfo
{
    private static readonly Dictionary<string, string> NpgsqlKeys = new(StringComparer.Ordinal)
    {
        ["host"] = "Host",
        ["port"] = "Port",
        ["user"] = "Username",
        ["dbname"] = "Database",
        ["password"] = "Password",
        ["passfile"] = "Passfile",
        ["sslmode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["connect_timeout"] = "Timeout",
    };

    private readonly List<KeyValuePair<string, string>> _pairs;

    private Conninfo(List<KeyValuePair<string, string>> pairs) => _pairs = pairs;

    public string? this[string key] => _pairs.LastOrDefault(p => p.Key == key).Value;

    /// <exception cref="FormatException">Not <c>key=value</c> pairs.</exception>
    public static Conninfo Parse(string text)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i == text.Length)
            {
                return new Conninfo(pairs);
            }

            var equals = text.IndexOf('=', i);
            if (equals < 0)
            {
                throw new FormatException($"'{text[i..]}' is not key=value");
            }

            var key = text[i..equals].Trim();
            i = equals + 1;
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            var value = new StringBuilder();
            var quoted = i < text.Length && text[i] == '\'';
            if (quoted)
            {
                i++;
            }

            for (; i < text.Length && (quoted ? text[i] != '\'' : !char.IsWhiteSpace(text[i])); i++)
            {
                if (text[i] == '\\' && i + 1 < text.Length)
                {
                    i++;
                }

                value.Append(text[i]);
            }

            if (quoted)
            {
                if (i == text.Length)
                {
                    throw new FormatException($"unterminated quote in the value of {key}");
                }

                i++;
            }

            pairs.Add(new(key, value.ToString()));
        }
    }

    /// <summary>A copy with <paramref name="key"/> set (replaced where present).</summary>
    public Conninfo With(string key, string value) =>
        new([.. _pairs.Where(p => p.Key != key), new(key, value)]);

    public override string ToString() =>
        string.Join(' ', _pairs.Select(p => $"{p.Key}='{p.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)}'"));

    /// <summary>For Npgsql: the keys it shares with libpq; libpq-only ones (<c>application_name</c> apart) are left out.</summary>
    public NpgsqlConnectionStringBuilder ToNpgsql(string? database = null)
    {
        var builder = new NpgsqlConnectionStringBuilder { Pooling = false, ApplicationName = "failoverwatch-rejoin", Timeout = 15 };
        foreach (var (key, value) in _pairs)
        {
            if (NpgsqlKeys.TryGetValue(key, out var npgsqlKey))
            {
                builder[npgsqlKey] = value;
            }
        }

        if (database is not null)
        {
            builder.Database = database;
        }

        return builder;
    }
}
