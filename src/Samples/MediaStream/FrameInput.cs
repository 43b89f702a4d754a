namespace L4Rt.Samples.MediaStream;

/// <summary>Where a stage reads frames from: the upstream stage's channel (and, for the pool transport, the pool).</summary>
internal abstract class FrameInput : IDisposable
{
    private long _next;

    /// <summary>The next frame, in place: true with its info and bytes; false at the end of the stream (the upstream completed it). A dead or misbehaving upstream throws <see cref="PipelineException"/>.</summary>
    public abstract bool TryRead(out FrameInfo info, out ReadOnlySpan<byte> frame);

    /// <summary>Done with the frame last read: its memory may be reused upstream.</summary>
    public abstract void Release(in FrameInfo info);

    /// <inheritdoc/>
    public abstract void Dispose();

    /// <summary>Frames read so far.</summary>
    public long Frames => _next;

    /// <summary>Frames come in order, each once: anything else is a broken upstream.</summary>
    private protected void CheckOrder(in FrameInfo info, string upstream)
    {
        if (info.Index != _next)
        {
            throw new PipelineException($"{upstream} sent frame {info.Index} where frame {_next} was due (ProtocolViolation)");
        }

        _next++;
    }
}
