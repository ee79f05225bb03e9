using FailoverWatch.Monitoring;
using static FailoverWatch.Tests.Failover.Reports;

namespace FailoverWatch.Tests.Monitoring;

public sealed class ClusterViewTests
{
    [Fact]
    public void lag_is_measured_against_the_primary_current_position()
    {
        var view = View("pg1", null, Primary("pg1", lsn: 5000), Standby("pg2", received: 4000, replayed: 3000));
        var standby = view.Find("pg2")!;
        Assert.Equal(2000, standby.LagBytes);
        Assert.Equal(1000, standby.ReceiveLagBytes);
        Assert.Equal(5, standby.LagSeconds);
    }

    [Fact]
    public void fully_replayed_standby_has_zero_lag_seconds_even_on_an_idle_primary()
    {
        var view = View("pg1", null, Primary("pg1", lsn: 5000), Standby("pg2", received: 5000));
        Assert.Equal(0, view.Find("pg2")!.LagSeconds);
    }

    [Fact]
    public void without_a_primary_the_last_known_position_is_the_reference()
    {
        var view = View("pg1", 9000, Down("pg1"), Standby("pg2", received: 4000));
        Assert.Equal(5000, view.Find("pg2")!.ReceiveLagBytes);
        Assert.Equal(new Lsn(9000), view.PrimaryLsn);
    }

    [Fact]
    public void lsn_round_trips_through_text()
    {
        var lsn = Lsn.Parse("16/B374D848");
        Assert.Equal("16/B374D848", lsn.ToString());
        Assert.Equal((0x16UL << 32) | 0xB374D848, lsn.Value);
    }
}
