using L4Rt.Channels;
using L4Rt.Ipc;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// The source's side of the pool transport: it owns the pool's slots. A frame is rendered into a free slot; the
/// sink returns each slot through the free-slot channel once written out. The source tracks which slots are out, so a
/// slot returned twice, or never lent, is a protocol violation and not a frame overwritten while it is read.
/// </summary>
internal sealed class PoolSourceOutput : PoolFrameOutput
{
    private readonly ChannelConsumer _freeSlots;
    private readonly int[] _free; // slots at hand (a stack)
    private readonly bool[] _lent; // slots downstream holds
    private int _freeCount;
    private long _returned;

    /// <summary>Every slot of <paramref name="pool"/> starts free; <paramref name="freeSlots"/> brings them back, <paramref name="indices"/> carries the frames to the filter.</summary>
    public PoolSourceOutput(FramePool pool, ChannelConsumer freeSlots, ChannelProducer indices)
        : base(pool, indices, "filter")
    {
        _freeSlots = freeSlots;
        _free = new int[pool.Slots];
        _lent = new bool[pool.Slots];
        for (int i = 0; i < pool.Slots; i++)
        {
            _free[_freeCount++] = pool.Slots - 1 - i;
        }
    }

    /// <inheritdoc/>
    public override OutputFrame Acquire(int inputSlot)
    {
        while (_freeCount == 0)
        {
            if (!TakeReturned(L4Timeout.Never))
            {
                throw new PipelineException("the sink stage completed the free-slot channel while the stream went on (ProtocolViolation)");
            }
        }

        int slot = _free[--_freeCount];
        _lent[slot] = true;
        return new OutputFrame { Header = default, Pixels = Pool.Frame(slot), Slot = slot };
    }

    /// <summary>
    /// Ends the stream, then waits until the sink has returned every slot and completed the free-slot channel: the
    /// pool is this task's dataspace, destroyed when it ends, so the source must not go while a frame is still read.
    /// </summary>
    public override void Complete()
    {
        base.Complete();
        while (TakeReturned(ChannelFailure.EndTimeout))
        {
        }

        if (_freeCount != Pool.Slots)
        {
            throw new PipelineException($"the sink stage ended the free-slot channel with {Pool.Slots - _freeCount} slots not returned");
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _freeSlots.Dispose();
        base.Dispose();
    }

    /// <summary>Takes one returned slot back: true; false once the sink completed the channel.</summary>
    private bool TakeReturned(L4Timeout timeout)
    {
        L4Status status = _freeSlots.Read(timeout, out ReadOnlySpan<byte> record);
        if (status != L4Status.Ok)
        {
            return status == L4Status.DestinationDeleted && _freeSlots.IsCompleted
                ? false
                : throw (status == L4Status.DestinationDeleted
                    // The sink closes it when it fails, also because the filter died: the source cannot tell which.
                    ? new PipelineException($"the stream broke downstream: the sink stage's free-slot channel ended without completion (DestinationDeleted) after {_returned} slots returned")
                    : ChannelFailure.Reading(_freeSlots, status, "sink", "free-slot channel", _returned));
        }

        FrameInfo info = default;
        bool valid = record.Length == FrameRecord.HeaderSize && FrameRecord.TryRead(record, out info);
        _freeSlots.Release();
        int slot = valid ? info.Slot : -1;
        if (!Pool.IsSlot(slot) || !_lent[slot])
        {
            throw new PipelineException($"the sink stage returned slot {slot}, which it does not hold (ProtocolViolation)");
        }

        _lent[slot] = false;
        _free[_freeCount++] = slot;
        _returned++;
        return true;
    }
}
