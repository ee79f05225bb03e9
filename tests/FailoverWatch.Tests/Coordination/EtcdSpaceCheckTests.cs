using Etcdserverpb;
using FailoverWatch.Coordination;
using Microsoft.Extensions.Time.Testing;

namespace FailoverWatch.Tests.Coordination;

/// <summary><c>doctor</c> on etcd's limits: a database past 80% of the default 2 GiB quota, a NOSPACE alarm raised.</summary>
public sealed class EtcdSpaceCheckTests
{
    private static readonly long Limit = (long)(EtcdSpaceCheck.DefaultQuotaBytes * EtcdSpaceCheck.Limit);

    [Fact]
    public async Task a_small_database_without_alarms_is_no_problem_and_its_size_is_said()
    {
        var etcd = new InMemoryEtcd(new FakeTimeProvider()) { DbSize = 25 << 20 };

        var (problems, warning, size) = await EtcdSpaceCheck.CheckAsync(etcd, CancellationToken.None);

        Assert.Empty(problems);
        Assert.Null(warning);
        Assert.Equal("database 25.0 MiB, 1.2% of the default 2 GiB quota", size);
    }

    [Theory]
    [InlineData(0L, false)]
    [InlineData(1L, true)]
    public void a_database_past_80_percent_of_the_quota_is_a_problem(long over, bool problem) =>
        Assert.Equal(problem, EtcdSpaceCheck.Judge(Limit + over, []).Any(p => p.Contains("over 80%", StringComparison.Ordinal)));

    [Fact]
    public void a_nospace_alarm_is_a_problem_and_another_alarm_is_not_this_one()
    {
        var nospace = EtcdSpaceCheck.Judge(1 << 20, [new AlarmMember { MemberID = 1, Alarm = AlarmType.Nospace }]);
        Assert.StartsWith("etcd: NOSPACE alarm raised", Assert.Single(nospace), StringComparison.Ordinal);
        Assert.Empty(EtcdSpaceCheck.Judge(1 << 20, [new AlarmMember { MemberID = 1, Alarm = AlarmType.Corrupt }]));
    }

    [Theory]
    [InlineData(20_000L, 0L, true)]
    [InlineData(20_000L, 19_000L, false)]
    [InlineData(5_000L, 0L, false)]
    public async Task a_revision_far_back_still_readable_warns_that_nothing_compacts(long revision, long compactedTo, bool warns)
    {
        var etcd = new InMemoryEtcd(new FakeTimeProvider()) { Revision = revision };
        if (compactedTo > 0)
        {
            await etcd.CompactAsync(compactedTo, CancellationToken.None);
        }

        var (problems, warning, _) = await EtcdSpaceCheck.CheckAsync(etcd, CancellationToken.None);

        Assert.Empty(problems);
        Assert.Equal(warns, warning?.Contains("nothing compacts", StringComparison.Ordinal) ?? false);
    }
}
