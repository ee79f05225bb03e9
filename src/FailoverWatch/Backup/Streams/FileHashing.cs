using System.Buffers;
using System.Security.Cryptography;

namespace FailoverWatch.Backup.Streams;

/// <summary>Copy-and-hash and hash-only over files, with one pooled buffer and no per-file stream buffering.</summary>
internal static class FileHashing
{
    private const int BufferSize = 1 << 20;

    /// <summary>Copies <paramref name="source"/> to a new file and returns the SHA-256 of what was written, read once.</summary>
    public static async Task<(string Sha256, long Bytes)> CopyAsync(string source, string destination, UnixFileMode createMode, CancellationToken cancellationToken)
    {
        await using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 1, UnixCreateMode = createMode };
        await using var output = new FileStream(destination, options);
        await using var hashing = new HashingWriteStream(output);
        await CopyAsync(input, hashing, cancellationToken);
        return (hashing.HashHex(), hashing.BytesWritten);
    }

    public static async Task<(string Sha256, long Bytes)> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        await using var hashing = new HashingWriteStream(Null);
        await CopyAsync(input, hashing, cancellationToken);
        return (hashing.HashHex(), hashing.BytesWritten);
    }

    public static async Task CopyAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The blocking twin of <see cref="CopyAsync(Stream, Stream, CancellationToken)"/>, for a dedicated thread.</summary>
    public static void CopySync(Stream input, Stream output)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = input.Read(buffer)) > 0)
            {
                output.Write(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static Stream Null => Stream.Null;

    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
