using L4Rt.Channels;
using L4Rt.Ipc;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// Pool transport, reading side: a record is only a header naming the pool slot that holds the frame. The frame is
/// read where it is, in the pool. The sink returns each slot to the source when done (<paramref name="freeSlots"/>);
/// the filter passes it on instead (null).
/// </summary>
internal sealed class PoolFrameInput(ChannelConsumer indices, FramePool pool, ChannelProducer? freeSlots, string upstream) : FrameInput
{
    /// <inheritdoc/>
    public override bool TryRead(out FrameInfo info, out ReadOnlySpan<byte> frame)
    {
        frame = default;
        info = default;
        L4Status status = indices.Read(L4Timeout.Never, out ReadOnlySpan<byte> record);
        if (status != L4Status.Ok)
        {
            if (status == L4Status.DestinationDeleted && indices.IsCompleted)
            {
                CompleteFreeSlots();
                return false;
            }

            throw ChannelFailure.Reading(indices, status, upstream, "frame index channel", Frames);
        }

        bool valid = record.Length == FrameRecord.HeaderSize && FrameRecord.TryRead(record, out info);
        indices.Release(); // the header is copied into info: the ring space is free again
        if (!valid || !pool.IsSlot(info.Slot))
        {
            throw new PipelineException($"the {upstream} stage sent an index record of {record.Length} bytes naming slot {info.Slot} of a pool of {pool.Slots} (ProtocolViolation)");
        }

        CheckOrder(info, upstream);
        frame = pool.ReadOnlyFrame(info.Slot);
        return true;
    }

    /// <inheritdoc/>
    public override void Release(in FrameInfo info)
    {
        if (freeSlots is null)
        {
            return; // the filter hands the slot on downstream with the frame
        }

        L4Status status = freeSlots.Reserve(FrameRecord.HeaderSize, L4Timeout.Never, out Span<byte> record);
        if (status != L4Status.Ok)
        {
            throw ChannelFailure.Writing(status, "source", "free-slot channel");
        }

        FrameRecord.Write(record, info);
        freeSlots.Commit(FrameRecord.HeaderSize);
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        indices.Dispose();
        freeSlots?.Dispose();
        pool.Dispose();
    }

    /// <summary>At the end of the stream: tells the source every slot is back, so it may unmap the pool and go.</summary>
    private void CompleteFreeSlots()
    {
        L4Status status = freeSlots?.Complete(ChannelFailure.EndTimeout) ?? L4Status.Ok;
        if (status != L4Status.Ok)
        {
            throw ChannelFailure.Writing(status, "source", "free-slot channel");
        }
    }
}
