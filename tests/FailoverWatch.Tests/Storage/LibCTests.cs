using System.Runtime.InteropServices;
using FailoverWatch.Storage;

namespace FailoverWatch.Tests.Storage;

public sealed class LibCTests : IDisposable
{
    private const int ENotDir = 20;
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-libc-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void o_directory_is_this_architectures_flag_a_regular_file_is_refused_a_folder_opened()
    {
        // With another architecture's constant the flag means something else (O_NOFOLLOW on arm64), and a file opens.
        var file = Path.Combine(_directory, "file");
        File.WriteAllText(file, "x");
        Assert.Equal(-1, LibC.Open(file, LibC.ORdOnly | LibC.ODirectory));
        Assert.Equal(ENotDir, Marshal.GetLastPInvokeError());

        var fd = LibC.Open(_directory, LibC.ORdOnly | LibC.ODirectory);
        Assert.True(fd >= 0);
        Assert.Equal(0, LibC.Close(fd));
    }
}
