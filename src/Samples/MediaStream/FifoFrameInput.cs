using L4Rt.Channels;
using L4Rt.Ipc;

namespace L4Rt.Samples.MediaStream;

/// <summary>FIFO transport, reading side: each record is a header and the whole frame, read in place in the ring.</summary>
internal sealed class FifoFrameInput(ChannelConsumer consumer, FrameGeometry geometry, string upstream) : FrameInput
{
    /// <inheritdoc/>
    public override bool TryRead(out FrameInfo info, out ReadOnlySpan<byte> frame)
    {
        frame = default;
        info = default;
        L4Status status = consumer.Read(L4Timeout.Never, out ReadOnlySpan<byte> record);
        if (status != L4Status.Ok)
        {
            return status == L4Status.DestinationDeleted && consumer.IsCompleted
                ? false
                : throw ChannelFailure.Reading(consumer, status, upstream, "frame channel", Frames);
        }

        if (record.Length != FrameRecord.HeaderSize + geometry.FrameSize || !FrameRecord.TryRead(record, out info))
        {
            throw new PipelineException($"the {upstream} stage sent a record of {record.Length} bytes where a {geometry} frame record is {FrameRecord.HeaderSize + geometry.FrameSize} (ProtocolViolation)");
        }

        CheckOrder(info, upstream);
        frame = record.Slice(FrameRecord.HeaderSize, geometry.FrameSize);
        return true;
    }

    /// <inheritdoc/>
    public override void Release(in FrameInfo info) => consumer.Release();

    /// <inheritdoc/>
    public override void Dispose() => consumer.Dispose();
}
