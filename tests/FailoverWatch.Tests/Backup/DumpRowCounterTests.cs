using System.Text;
using FailoverWatch.Backup.Streams;

namespace FailoverWatch.Tests.Backup;

public sealed class DumpRowCounterTests
{
    private const string Dump = """
        --
        -- Database "template1" dump
        --

        \connect template1
        CREATE FUNCTION f() RETURNS void AS $$
        COPY not_data FROM somewhere;
        $$ LANGUAGE sql;
        --
        -- Database "mastodon" dump
        --

        \connect mastodon
        COPY public.statuses (id, text) FROM stdin;
        1	hello\nworld
        2	COPY x FROM stdin;
        3	\\.
        \.
        COPY public."Empty Table" (id) FROM stdin;
        \.
        COPY public.accounts (id) FROM stdin;
        10
        \.

        """;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(1 << 16)]
    public void counts_rows_per_table_per_database_whatever_the_chunking(int chunk)
    {
        using var sink = new MemoryStream();
        var counter = new DumpRowCounter(sink);
        var bytes = Encoding.UTF8.GetBytes(Dump);
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            counter.Write(bytes, i, Math.Min(chunk, bytes.Length - i));
        }

        Assert.Equal(bytes, sink.ToArray());
        Assert.Equal(["template1", "mastodon"], counter.Databases.Select(d => d.Name));
        Assert.Empty(counter.Databases[0].Tables);
        var mastodon = counter.Databases[1].Tables;
        Assert.Equal(3, mastodon["public.statuses"]);
        Assert.Equal(0, mastodon["public.\"Empty Table\""]);
        Assert.Equal(1, mastodon["public.accounts"]);
    }
}
