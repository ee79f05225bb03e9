namespace FailoverWatch.Backup.Streams;

/// <summary>A write-only zstd stream over the machine's libzstd: same frames as <c>zstd -3 -T1</c>, readable by ZstdSharp and the zstd command.</summary>
internal sealed unsafe class NativeZstdCompressionStream : WriteOnlyStream
{
    private const int OutputSize = 1 << 17;
    private readonly Stream _inner;
    private readonly byte[] _output = new byte[OutputSize];
    private nint _context;

    public NativeZstdCompressionStream(Stream inner, int level, int workers)
    {
        _inner = inner;
        _context = LibZstd.CreateCCtx();
        if (_context == 0)
        {
            throw new IOException("zstd: cannot create a compression context");
        }

        LibZstd.Check(LibZstd.SetParameter(_context, LibZstd.CompressionLevelParameter, level));
        // A library built without threads refuses workers; it then compresses on the calling thread.
        _ = LibZstd.SetParameter(_context, LibZstd.NbWorkersParameter, workers);
        // `zstd --rsyncable`: restic's chunks of the next day's dump line up again after each change (needs a worker).
        _ = LibZstd.SetParameter(_context, LibZstd.RsyncableParameter, 1);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* source = buffer)
        {
            var input = new LibZstd.Buffer { Data = source, Size = (nuint)buffer.Length, Position = 0 };
            while (input.Position < input.Size)
            {
                Compress(&input, LibZstd.EndContinue);
            }
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (_context != 0)
        {
            try
            {
                if (disposing)
                {
                    // Finish the frame: loop until libzstd says nothing is left to flush.
                    var input = new LibZstd.Buffer { Data = null, Size = 0, Position = 0 };
                    while (Compress(&input, LibZstd.EndFinish) != 0)
                    {
                    }
                }
            }
            finally
            {
                _ = LibZstd.FreeCCtx(_context);
                _context = 0;
            }
        }

        base.Dispose(disposing);
    }

    private nuint Compress(LibZstd.Buffer* input, int endOp)
    {
        fixed (byte* destination = _output)
        {
            var output = new LibZstd.Buffer { Data = destination, Size = OutputSize, Position = 0 };
            var remaining = LibZstd.Check(LibZstd.CompressStream2(_context, &output, input, endOp));
            if (output.Position > 0)
            {
                _inner.Write(_output, 0, (int)output.Position);
            }

            return remaining;
        }
    }
}
