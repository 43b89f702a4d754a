using L4Rt.Channels;
using L4Rt.Ipc;

namespace L4Rt.Samples.MediaStream;

/// <summary>FIFO transport, writing side: the frame is written straight into a reserved ring record (zero copy) and committed.</summary>
internal sealed class FifoFrameOutput(ChannelProducer producer, FrameGeometry geometry, string downstream) : FrameOutput
{
    private readonly int _recordSize = FrameRecord.HeaderSize + geometry.FrameSize;

    /// <inheritdoc/>
    public override OutputFrame Acquire(int inputSlot)
    {
        L4Status status = producer.Reserve(_recordSize, L4Timeout.Never, out Span<byte> record);
        if (status != L4Status.Ok)
        {
            throw ChannelFailure.Writing(status, downstream, "frame channel");
        }

        return new OutputFrame { Header = record[..FrameRecord.HeaderSize], Pixels = record[FrameRecord.HeaderSize..], Slot = -1 };
    }

    /// <inheritdoc/>
    public override void Publish(in OutputFrame frame, in FrameInfo info)
    {
        FrameRecord.Write(frame.Header, info with { Slot = -1 });
        producer.Commit(_recordSize);
    }

    /// <inheritdoc/>
    public override void Complete()
    {
        L4Status status = producer.Complete(ChannelFailure.EndTimeout);
        if (status != L4Status.Ok)
        {
            throw ChannelFailure.Writing(status, downstream, "frame channel");
        }
    }

    /// <inheritdoc/>
    public override void Dispose() => producer.Dispose();
}
