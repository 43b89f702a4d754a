namespace L4Rt.Samples.MediaStream;

/// <summary>Where a stage writes frames to: the downstream stage's channel (and, for the pool transport, the pool).</summary>
internal abstract class FrameOutput : IDisposable
{
    /// <summary>
    /// Room for the next frame: a reserved ring record, a free pool slot, or (filter, pool transport) the slot
    /// <paramref name="inputSlot"/> the frame already occupies. Waits while downstream is full; a dead downstream throws
    /// <see cref="PipelineException"/>.
    /// </summary>
    public abstract OutputFrame Acquire(int inputSlot);

    /// <summary>Hands the frame written into <paramref name="frame"/> downstream.</summary>
    public abstract void Publish(in OutputFrame frame, in FrameInfo info);

    /// <summary>Ends the stream gracefully (downstream reads what was published, then the end).</summary>
    public abstract void Complete();

    /// <inheritdoc/>
    public abstract void Dispose();
}
