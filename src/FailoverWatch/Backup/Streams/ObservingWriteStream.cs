namespace FailoverWatch.Backup.Streams;

/// <summary>
/// A write-only stream that shows every byte to <see cref="Observe"/> on its way to the inner stream,
/// so a dump is hashed, counted and written in one pass.
/// </summary>
internal abstract class ObservingWriteStream(Stream inner) : WriteOnlyStream
{
    protected abstract void Observe(ReadOnlySpan<byte> data);

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Observe(buffer);
        inner.Write(buffer);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Observe(buffer.Span);
        return inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
}
