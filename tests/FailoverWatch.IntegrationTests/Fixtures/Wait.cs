using System.Diagnostics;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>Polls a condition until a deadline: the only way tests wait. Never a fixed sleep.</summary>
public static class Wait
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(50);

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, string what)
    {
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (clock.Elapsed < deadline)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e)
            {
                last = e;
            }

            await Task.Delay(PollEvery);
        }

        throw new TimeoutException($"waited {deadline.TotalSeconds:0.#}s for {what}" + (last is null ? "" : $"; last error: {last.Message}"));
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan deadline, string what) =>
        UntilAsync(() => Task.FromResult(condition()), deadline, what);

    /// <summary>Asserts a condition holds the whole time (for "nothing happens" checks), polling as it goes.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, TimeSpan during, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < during)
        {
            if (!await condition())
            {
                throw new InvalidOperationException($"{what} stopped holding after {clock.Elapsed.TotalSeconds:0.#}s");
            }

            await Task.Delay(PollEvery * 4);
        }
    }
}
