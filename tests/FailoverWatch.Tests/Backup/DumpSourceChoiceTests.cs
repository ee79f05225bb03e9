using FailoverWatch.Backup.Steps;
using FailoverWatch.Configuration;

namespace FailoverWatch.Tests.Backup;

/// <summary>Which node the dump comes from, given what each node answered: the stale-standby rule as a table.</summary>
public sealed class DumpSourceChoiceTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 3, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Max = TimeSpan.FromMinutes(5);

    private static NodeAnswer Primary(long lsn = 1000) => new(Node("pg1"), "primary", "15.18", null) { Lsn = lsn, Now = Now };

    private static NodeAnswer Standby(string name = "pg2", long lsn = 1000, TimeSpan? lastReplayAgo = null, bool receiverCurrent = false) =>
        new(Node(name), "standby", "15.18", null) { Lsn = lsn, LastReplay = lastReplayAgo is { } ago ? Now - ago : null, Now = Now, ReceiverCurrent = receiverCurrent };

    private static NodeAnswer Down(string name) => new(Node(name), null, null, "connection refused");

    private static NodeOptions Node(string name) => new() { Name = name, Host = "127.0.0.1" };

    [Fact]
    public void a_caught_up_standby_is_dumped_whatever_its_last_commit_age()
    {
        var choice = DumpSourceChoice.Choose([Primary(), Standby(lastReplayAgo: TimeSpan.FromDays(3))], "standby", Max);
        Assert.Equal(("pg2", TimeSpan.Zero, (string?)null), (choice.Source.Node.Name, choice.StandbyDelay!.Value, choice.InsteadOf));
    }

    [Fact]
    public void a_standby_behind_but_within_the_limit_is_dumped_with_its_delay()
    {
        var choice = DumpSourceChoice.Choose([Primary(2000), Standby(lastReplayAgo: TimeSpan.FromSeconds(40))], "standby", Max);
        Assert.Equal(("pg2", TimeSpan.FromSeconds(40)), (choice.Source.Node.Name, choice.StandbyDelay!.Value));
    }

    [Fact]
    public void past_the_limit_the_next_fresh_standby_then_the_primary_is_dumped_and_the_reason_kept()
    {
        var stale = Standby("pg2", 500, TimeSpan.FromHours(3));
        Assert.Equal("pg3", DumpSourceChoice.Choose([Primary(2000), stale, Standby("pg3", 2000)], "standby", Max).Source.Node.Name);
        var primary = DumpSourceChoice.Choose([Primary(2000), stale], "standby", Max);
        Assert.Equal("pg1", primary.Source.Node.Name);
        Assert.Equal("standby pg2 is 3h behind (max_standby_delay 5m)", primary.InsteadOf);
    }

    [Fact]
    public void a_behind_standby_that_replayed_nothing_since_it_started_counts_as_stale()
    {
        var choice = DumpSourceChoice.Choose([Primary(2000), Standby(lsn: 500)], "standby", Max);
        Assert.Equal("pg1", choice.Source.Node.Name);
        Assert.Contains("unknown time", choice.InsteadOf, StringComparison.Ordinal);
    }

    [Fact]
    public void without_a_primary_a_current_receiver_is_dumped_and_a_stale_standby_fails_naming_the_delay()
    {
        Assert.Equal("pg2", DumpSourceChoice.Choose([Down("pg1"), Standby(lastReplayAgo: TimeSpan.FromHours(1), receiverCurrent: true)], "standby", Max).Source.Node.Name);
        var error = Assert.Throws<InvalidOperationException>(() => DumpSourceChoice.Choose([Down("pg1"), Standby(lastReplayAgo: TimeSpan.FromDays(2))], "standby", Max));
        Assert.Equal("not dumping a stale standby: standby pg2 is 2d behind (max_standby_delay 5m), and no primary is reachable to dump from instead (pg1: connection refused)", error.Message);
    }

    [Fact]
    public void from_primary_prefers_the_primary_and_falls_back_to_a_fresh_standby_only()
    {
        Assert.Equal("pg1", DumpSourceChoice.Choose([Primary(), Standby()], "primary", Max).Source.Node.Name);
        Assert.Equal("pg2", DumpSourceChoice.Choose([Down("pg1"), Standby(receiverCurrent: true)], "primary", Max).Source.Node.Name);
        Assert.Throws<InvalidOperationException>(() => DumpSourceChoice.Choose([Down("pg1"), Down("pg2")], "primary", Max));
    }
}
