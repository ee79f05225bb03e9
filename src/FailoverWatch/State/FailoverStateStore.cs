using System.Text.Json;
using System.Text.Json.Serialization;
using FailoverWatch.Storage;

namespace FailoverWatch.State;

/// <summary>
/// The state file: read at start, replaced atomically (temp file, fsync, rename, fsync of the folder) on every change, so a crash
/// leaves either the old state or the new one, never half of one. Updates are serialised.
/// The write (an fsync, which a hung disk may never finish) runs beside the caller, which waits for it up to
/// <see cref="WriteTimeout"/>: past that the update fails as any unwritable state does, and no later write starts
/// until that one has returned, so a late rename can never put older state over newer.
/// </summary>
internal sealed class FailoverStateStore : IClusterStateStore, IDisposable
{
    /// <summary>How long one update waits for its write (and for a late one before it) to reach the disk.</summary>
    public static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(5);

    private const int HistoryLimit = 100;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Func<FailoverState, Task> _write;
    private readonly TimeProvider _time;
    private FailoverState? _current;

    // The last write started: a timed-out one may still be running.
    private Task _writing = Task.CompletedTask;

    public FailoverStateStore(string path)
        : this(path, null, TimeProvider.System)
    {
    }

    /// <param name="write">Replaces the file's write (tests: a write that never returns); null writes the file.</param>
    internal FailoverStateStore(string path, Func<FailoverState, Task>? write, TimeProvider time)
    {
        Path = path;
        _write = write ?? WriteAtomicallyAsync;
        _time = time;
    }

    public string Path { get; }

    public FailoverState Current => _current ??= Load(Path);

    public static FailoverState Load(string path)
    {
        if (!File.Exists(path))
        {
            return FailoverState.Empty;
        }

        return JsonSerializer.Deserialize(File.ReadAllText(path), FailoverStateJsonContext.Default.FailoverState)
            ?? throw new InvalidDataException($"state file {path} is empty");
    }

    public async Task<FailoverState> UpdateAsync(Func<FailoverState, FailoverState> change, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var next = Bounded(change(Current));

            if (next != Current)
            {
                await WriteWithinAsync(next, cancellationToken);
                _current = next;
            }

            return next;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>The state with its history cut to the newest entries, as every store keeps it.</summary>
    internal static FailoverState Bounded(FailoverState state) =>
        state.History.Count > HistoryLimit || state.Timelines.Count > HistoryLimit
            ? state with { History = [.. state.History.TakeLast(HistoryLimit)], Timelines = [.. state.Timelines.TakeLast(HistoryLimit)] }
            : state;

    private async Task WriteWithinAsync(FailoverState state, CancellationToken cancellationToken)
    {
        try
        {
            // Its outcome was reported to its own caller; here only its end matters.
            await Task.WhenAny(_writing).WaitAsync(WriteTimeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new IOException($"the state file {Path}: an earlier write has not returned after {WriteTimeout.TotalSeconds:0}s (a hung disk?); not writing over it");
        }

        // Not the caller's token: a write once started runs to its end, whoever stopped waiting for it.
        _writing = Task.Run(() => _write(state), CancellationToken.None);
        try
        {
            await _writing.WaitAsync(WriteTimeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new IOException($"the state file {Path} was not written within {WriteTimeout.TotalSeconds:0}s (a hung disk?)");
        }
    }

    private async Task WriteAtomicallyAsync(FailoverState state)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        await DurableFiles.ReplaceAsync(Path, JsonSerializer.SerializeToUtf8Bytes(state, FailoverStateJsonContext.Default.FailoverState), DurableFiles.OwnerOnly, CancellationToken.None);
    }
}

// Source-generated, so the native binary needs no reflection to read or write the state. Incidents alone
// (GET /incidents, incidents --json) are printed in the same snake_case as the state holds them.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(FailoverState))]
[JsonSerializable(typeof(IReadOnlyList<Incident>))]
[JsonSerializable(typeof(Incident))]
internal sealed partial class FailoverStateJsonContext : JsonSerializerContext;
