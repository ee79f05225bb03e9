using FailoverWatch.Processes;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// A small tmpfs mounted on a folder (needs root): a destination that fills up, or that is remounted read-only (and back)
/// (chmod does not stop root; a read-only mount does). Always unmounted on dispose.
/// </summary>
public sealed class TmpfsMount : IAsyncDisposable
{
    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    public static async Task<TmpfsMount> MountAsync(string path, string size)
    {
        Directory.CreateDirectory(path);
        await RunAsync("mount", ["-t", "tmpfs", "-o", $"size={size},mode=0700", "tmpfs", path]);
        return new TmpfsMount(path);
    }

    public Task MakeReadOnlyAsync() => RunAsync("mount", ["-o", "remount,ro", Path]);

    public Task MakeWritableAsync() => RunAsync("mount", ["-o", "remount,rw", Path]);

    public async ValueTask DisposeAsync()
    {
        await ExternalProcess.RunAsync("umount", ["-l", Path], TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    private static async Task RunAsync(string program, string[] arguments)
    {
        var result = await ExternalProcess.RunAsync(program, arguments, TimeSpan.FromSeconds(30), CancellationToken.None);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)}: {result.Describe()}");
        }
    }
}
