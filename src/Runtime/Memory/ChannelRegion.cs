using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Memory;

/// <summary>A mapped channel: the <see cref="ChannelLayout"/> header page and the ring data after it.</summary>
internal sealed unsafe class ChannelRegion : IDisposable
{
    internal const long MinCapacity = 4096;
    internal const long MaxCapacity = 1L << 30;

    private readonly SharedRegion _region;

    private ChannelRegion(SharedRegion region, long capacity)
    {
        _region = region;
        Capacity = capacity;
    }

    /// <summary>Ring bytes (a power of two); taken from the creator's header once and checked against the region size.</summary>
    internal long Capacity { get; }

    internal ref ChannelLayout Layout => ref *(ChannelLayout*)_region.Base;

    internal byte* Data => _region.Base + ChannelLayout.HeaderSize;

    internal SafeFileHandle Handle => _region.Handle;

    internal static long RegionSize(long capacity) => ChannelLayout.HeaderSize + capacity;

    internal static ChannelRegion Create(long capacity)
    {
        if (capacity < MinCapacity || capacity > MaxCapacity || (capacity & (capacity - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), $"a channel's capacity is a power of two from {MinCapacity} to {MaxCapacity} bytes");
        }

        ChannelRegion channel = new(SharedRegion.Create("l4rt-channel", RegionSize(capacity)), capacity);
        ref ChannelLayout layout = ref channel.Layout;
        layout.Capacity = capacity;
        layout.Version = ChannelLayout.CurrentVersion;
        Volatile.Write(ref layout.Magic, ChannelLayout.MagicValue); // published last; pairs with the attach check
        return channel;
    }

    /// <summary>Maps a channel received as a descriptor; validates size, seals, magic, version and capacity.</summary>
    internal static ChannelRegion Attach(SafeFileHandle fd, long capacity)
    {
        if (capacity < MinCapacity || capacity > MaxCapacity || (capacity & (capacity - 1)) != 0)
        {
            fd.Dispose();
            throw new L4RtException(L4Status.ProtocolViolation, $"channel capacity {capacity} is not a power of two within limits");
        }

        ChannelRegion channel = new(SharedRegion.Attach(fd, RegionSize(capacity)), capacity);
        ref ChannelLayout layout = ref channel.Layout;
        if (Volatile.Read(ref layout.Magic) != ChannelLayout.MagicValue || layout.Version != ChannelLayout.CurrentVersion || layout.Capacity != capacity)
        {
            channel.Dispose();
            throw new L4RtException(L4Status.ProtocolViolation, "the region passed as a channel has a wrong magic, version or capacity");
        }

        return channel;
    }

    /// <summary>A span of ring data; the caller has validated the range, this re-checks it (defence in depth).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // per record, twice: the throw is out of line so the check inlines
    internal Span<byte> Slice(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset + length > Capacity)
        {
            ThrowOutsideTheRing("channel range outside the ring");
        }

        return new Span<byte>(Data + offset, length);
    }

    /// <summary>The 8-byte record header at <paramref name="offset"/> (8-aligned, inside the ring).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref ulong HeaderAt(long offset)
    {
        if (offset < 0 || offset + ChannelLayout.RecordHeader > Capacity || (offset & 7) != 0)
        {
            ThrowOutsideTheRing("channel header outside the ring");
        }

        return ref *(ulong*)(Data + offset);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutsideTheRing(string what) => throw new L4RtException(L4Status.ProtocolViolation, what);

    /// <summary>Marks one side dead and wakes the other (broker or peer watch).</summary>
    internal void MarkDead(bool producer)
    {
        ref ChannelLayout l = ref Layout;
        Interlocked.Exchange(ref producer ? ref l.ProducerDead : ref l.ConsumerDead, 1);
        Interlocked.Increment(ref l.DataWake);
        Futexes.Wake(ref l.DataWake);
        Interlocked.Increment(ref l.SpaceWake);
        Futexes.Wake(ref l.SpaceWake);
    }

    public void Dispose() => _region.Dispose();
}
