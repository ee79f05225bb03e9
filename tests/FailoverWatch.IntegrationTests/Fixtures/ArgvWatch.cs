using System.Collections.Concurrent;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// Reads every process's command line (<c>/proc/*/cmdline</c>, readable by every user) every few milliseconds while it
/// runs: what anyone on the host could have seen. Each distinct command line is kept, so a test can both check that no
/// secret was among them and that the processes it meant to watch (pg_dumpall, restic) were seen at all.
/// </summary>
public sealed class ArgvWatch : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ArgvWatch() => _loop = Task.Run(() => WatchAsync(_stop.Token));

    public ConcurrentDictionary<string, bool> CommandLines { get; } = new(StringComparer.Ordinal);

    public static ArgvWatch Start() => new();

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var process in Directory.EnumerateDirectories("/proc").Where(d => char.IsAsciiDigit(Path.GetFileName(d)[0])))
            {
                try
                {
                    var line = (await File.ReadAllTextAsync(Path.Combine(process, "cmdline"), CancellationToken.None)).Replace('\0', ' ');
                    CommandLines.TryAdd(line, true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Gone between the listing and the read.
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(5), CancellationToken.None);
        }
    }

    /// <summary>Stops watching; then every command line seen holds none of <paramref name="secrets"/>, and one ran each of <paramref name="programs"/>.</summary>
    public async Task AssertNoSecretAsync(IEnumerable<string> secrets, IEnumerable<string> programs)
    {
        await DisposeAsync();
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(CommandLines.Keys, line => line.Contains(secret, StringComparison.Ordinal));
        }

        foreach (var program in programs)
        {
            Assert.True(CommandLines.Keys.Any(line => line.Contains(program, StringComparison.Ordinal)), $"no {program} process was seen: the watch proves nothing about it");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        await _loop;
    }
}
