using System.Buffers;

namespace L4Rt.Memory;

/// <summary>
/// A <see cref="Memory{T}"/> view of a channel ring's data, whole: the records read (or reserved) in place are
/// sliced out of it with <see cref="Of"/>, so handing a record out as memory allocates nothing. Writable (a
/// producer fills its reservations through it). A slice is valid as long as the span it was made from (until
/// the record is released, or committed); pinning is a no-op (the ring is unmanaged memory).
/// </summary>
internal sealed unsafe class RingMemory(ChannelRegion region) : MemoryManager<byte>
{
    private byte* _data = region.Data;
    private readonly int _length = checked((int)region.Capacity); // at most ChannelRegion.MaxCapacity (1 GiB)

    /// <summary>The memory of <paramref name="inRing"/>, a span of this ring (a record read or reserved in place).</summary>
    internal Memory<byte> Of(ReadOnlySpan<byte> inRing)
    {
        if (inRing.IsEmpty)
        {
            return Memory<byte>.Empty;
        }

        fixed (byte* p = inRing)
        {
            long offset = p - _data; // the ring is unmanaged memory: the address stays valid after the fixed block
            if (offset < 0 || offset + inRing.Length > _length)
            {
                throw new ArgumentOutOfRangeException(nameof(inRing), "the span does not lie inside this channel's ring");
            }

            return CreateMemory((int)offset, inRing.Length);
        }
    }

    public override Span<byte> GetSpan() => new(_data, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_data + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing) => _data = null;
}
