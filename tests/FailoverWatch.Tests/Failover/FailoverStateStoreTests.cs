using FailoverWatch.State;

namespace FailoverWatch.Tests.Failover;

public sealed class FailoverStateStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-state-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task state_survives_a_reload_with_failover_in_progress_and_history()
    {
        var path = Path.Combine(_directory, "sub", "state.json");
        using (var store = new FailoverStateStore(path))
        {
            await store.UpdateAsync(s => s with
            {
                Primary = "pg1",
                Paused = true,
                PrimaryLsn = "16/B374D848",
                InProgress = new FailoverInProgress("pg1", "pg2", Reports.Now),
                History = [new FailoverRecord("pg0", "pg1", Reports.Now, FailoverResults.Promoted, "test")],
            }, CancellationToken.None);
        }

        var loaded = FailoverStateStore.Load(path);
        Assert.Equal("pg1", loaded.Primary);
        Assert.True(loaded.Paused);
        Assert.Equal("16/B374D848", loaded.PrimaryLsn);
        Assert.Equal(new FailoverInProgress("pg1", "pg2", Reports.Now), loaded.InProgress);
        Assert.Equal("pg1", loaded.LastFailover!.To);
        Assert.Contains("\"in_progress\"", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void missing_file_is_an_empty_state() =>
        Assert.Null(FailoverStateStore.Load(Path.Combine(_directory, "none.json")).Primary);
}
