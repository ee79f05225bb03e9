using FailoverWatch.Monitoring;
using FailoverWatch.Rejoin;

namespace FailoverWatch.Tests.Rejoin;

public sealed class RejoinParsingTests
{
    private const string ControlDataOutput = """
        pg_control version number:            1300
        Database system identifier:           7443021998822051234
        Database cluster state:               in archive recovery
        Latest checkpoint location:           0/3000060
        Latest checkpoint's TimeLineID:       1
        Min recovery ending location:         0/4000100
        Min recovery ending loc's timeline:   2
        wal_log_hints setting:                off
        Data page checksum version:           1
        """;

    [Fact]
    public void control_data_takes_the_newer_of_checkpoint_and_recovery_timelines_as_pg_rewind_does()
    {
        var data = ControlData.Parse(ControlDataOutput);
        Assert.Equal("7443021998822051234", data.SystemIdentifier);
        Assert.Equal(2, data.Timeline);
        Assert.True(data.Checksums);
        Assert.False(data.WalLogHints);
        Assert.False(data.IsPrimaryState);
    }

    [Theory]
    [InlineData("in production", true)]
    [InlineData("shutting down", true)]
    [InlineData("shut down", false)]
    [InlineData("shut down in recovery", false)]
    [InlineData("in crash recovery", false)]
    public void only_a_server_writing_its_own_wal_is_in_a_primary_state(string state, bool primary) =>
        Assert.Equal(primary, ControlData.Parse(ControlDataOutput.Replace("in archive recovery", state, StringComparison.Ordinal)).IsPrimaryState);

    [Fact]
    public void control_data_without_a_field_it_needs_is_an_error() =>
        Assert.Throws<FormatException>(() => ControlData.Parse("Database system identifier: 1\n"));

    [Fact]
    public void the_fork_point_is_where_the_history_left_the_nodes_timeline()
    {
        var history = TimelineHistory.Parse("1\t0/3000158\tno recovery target specified\n\n2\t0/5000000\tno recovery target specified\n");
        Assert.Equal(Lsn.Parse("0/3000158"), TimelineHistory.ForkPoint(history, 1));
        Assert.Equal(Lsn.Parse("0/5000000"), TimelineHistory.ForkPoint(history, 2));
        Assert.Null(TimelineHistory.ForkPoint(history, 3));
        Assert.Equal("0000000A.history", TimelineHistory.FileName(10));
    }

    [Fact]
    public void wal_dump_counts_commits_names_relations_and_finds_the_end()
    {
        const string dump = """
            rmgr: Heap        len (rec/tot):     59/    59, tx:        735, lsn: 0/03000160, prev 0/03000128, desc: INSERT off 2 flags 0x00, blkref #0: rel 1663/5/16385 blk 0
            rmgr: Transaction len (rec/tot):     34/    34, tx:        735, lsn: 0/030001A0, prev 0/03000160, desc: COMMIT 2026-12-04 15:17:52.123456 UTC
            rmgr: Heap        len (rec/tot):     59/    59, tx:        736, lsn: 0/030001C8, prev 0/030001A0, desc: INSERT off 3 flags 0x00, blkref #0: rel 1663/5/16385 blk 0
            rmgr: Btree       len (rec/tot):     64/    64, tx:        736, lsn: 0/03000208, prev 0/030001C8, desc: INSERT_LEAF off 3, blkref #0: rel 1663/5/16390 blk 1
            rmgr: Transaction len (rec/tot):     34/    34, tx:        736, lsn: 0/03000248, prev 0/03000208, desc: COMMIT 2026-12-04 15:17:53 UTC
            rmgr: Transaction len (rec/tot):     34/    34, tx:        737, lsn: 0/03000270, prev 0/03000248, desc: ABORT 2026-12-04 15:17:54 UTC
            """;
        var summary = WalDumpSummary.Parse(dump);
        Assert.Equal(6, summary.Records);
        Assert.Equal(2, summary.Commits);
        Assert.Equal(Lsn.Parse("0/03000292"), summary.EndLsn);
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 15, 17, 52, TimeSpan.Zero).AddTicks(1234560), summary.FirstCommitAt);
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 15, 17, 53, TimeSpan.Zero), summary.LastCommitAt);
        Assert.Equal([new RelFileLocator(1663, 5, 16385), new RelFileLocator(1663, 5, 16390)], summary.Relations);
    }

    [Fact]
    public void an_empty_dump_has_no_records_and_no_end() =>
        Assert.Equal(new WalDumpSummary(0, 0, null, null, null, []).Records, WalDumpSummary.Parse("").Records);

    [Fact]
    public void conninfo_keeps_libpq_form_replaces_a_key_and_maps_to_npgsql()
    {
        var conninfo = Conninfo.Parse("host=10.0.0.12 port=5433 user=rewind dbname='my db' application_name=old password='it\\'s'");
        Assert.Equal("it's", conninfo["password"]);
        Assert.Equal("my db", conninfo["dbname"]);
        var replaced = conninfo.With("application_name", "pg1");
        Assert.Equal("pg1", Conninfo.Parse(replaced.ToString())["application_name"]);
        Assert.Equal("my db", Conninfo.Parse(replaced.ToString())["dbname"]);
        var npgsql = conninfo.ToNpgsql("other");
        Assert.Equal("10.0.0.12", npgsql.Host);
        Assert.Equal(5433, npgsql.Port);
        Assert.Equal("rewind", npgsql.Username);
        Assert.Equal("other", npgsql.Database);
    }

    [Theory]
    [InlineData("host")]
    [InlineData("host='unterminated")]
    public void malformed_conninfo_is_a_format_error(string text) =>
        Assert.Throws<FormatException>(() => Conninfo.Parse(text));
}
