using System.Security.Cryptography;

namespace FailoverWatch.Backup.Streams;

/// <summary>A write-only stream that hashes and counts every byte on its way to the inner stream: checksum and file in one pass.</summary>
internal sealed class HashingWriteStream(Stream inner) : ObservingWriteStream(inner)
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long BytesWritten { get; private set; }

    public string HashHex() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public override long Length => BytesWritten;

    public override long Position
    {
        get => BytesWritten;
        set => throw new NotSupportedException();
    }

    protected override void Observe(ReadOnlySpan<byte> data)
    {
        _hash.AppendData(data);
        BytesWritten += data.Length;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
