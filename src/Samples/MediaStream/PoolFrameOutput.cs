using L4Rt.Channels;
using L4Rt.Ipc;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// Pool transport, writing side: the frame is in a pool slot; only its header (index, stamp, slot) goes downstream.
/// The filter's output: the frame stays in the slot it came in (filtered in place).
/// </summary>
internal class PoolFrameOutput(FramePool pool, ChannelProducer indices, string downstream) : FrameOutput
{
    private protected FramePool Pool => pool;

    /// <inheritdoc/>
    public override OutputFrame Acquire(int inputSlot) => new() { Header = default, Pixels = pool.Frame(inputSlot), Slot = inputSlot };

    /// <inheritdoc/>
    public override void Publish(in OutputFrame frame, in FrameInfo info)
    {
        L4Status status = indices.Reserve(FrameRecord.HeaderSize, L4Timeout.Never, out Span<byte> record);
        if (status != L4Status.Ok)
        {
            throw ChannelFailure.Writing(status, downstream, "frame index channel");
        }

        FrameRecord.Write(record, info with { Slot = frame.Slot });
        indices.Commit(FrameRecord.HeaderSize);
    }

    /// <inheritdoc/>
    public override void Complete()
    {
        L4Status status = indices.Complete(ChannelFailure.EndTimeout);
        if (status != L4Status.Ok)
        {
            throw ChannelFailure.Writing(status, downstream, "frame index channel");
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        indices.Dispose();
        pool.Dispose();
    }
}
