namespace FailoverWatch.Soak;

/// <summary>Work running in the background until disposed: dispose cancels it and waits for it to end.</summary>
internal sealed class BackgroundWork : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    public BackgroundWork(Func<CancellationToken, Task> work) => _running = work(_stop.Token);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
