using System.Text.Json;
using System.Text.Json.Serialization;
using FailoverWatch.Incidents;
using FailoverWatch.Storage;

namespace FailoverWatch.Failover;

/// <summary>
/// The state file: read at start, replaced atomically (temp file, fsync, rename, fsync of the folder) on every change, so a crash
/// leaves either the old state or the new one, never half of one. Updates are serialised.
/// </summary>
internal sealed class FailoverStateStore(string path) : IClusterStateStore, IDisposable
{
    private const int HistoryLimit = 100;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private FailoverState? _current;

    public string Path { get; } = path;

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
                await WriteAtomicallyAsync(next, cancellationToken);
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

    private async Task WriteAtomicallyAsync(FailoverState state, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        await DurableFiles.ReplaceAsync(Path, JsonSerializer.SerializeToUtf8Bytes(state, FailoverStateJsonContext.Default.FailoverState), DurableFiles.OwnerOnly, cancellationToken);
    }
}

// Source-generated, so the native binary needs no reflection to read or write the state. Incidents alone
// (GET /incidents, incidents --json) are printed in the same snake_case as the state holds them.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(FailoverState))]
[JsonSerializable(typeof(IReadOnlyList<Incident>))]
internal sealed partial class FailoverStateJsonContext : JsonSerializerContext;
