using L4Rt.Objects;

namespace L4Rt.Samples.MediaStream;

/// <summary>
/// The pool transport's frames: one dataspace created by the source and mapped by every stage, cut into slots of
/// whole pages, each holding one frame. The same physical pages in every process: a frame is never copied.
/// </summary>
internal sealed class FramePool : IDisposable
{
    private readonly DataspaceMapping _mapping;
    private readonly FrameGeometry _geometry;
    private readonly long _stride;

    /// <summary>A pool over <paramref name="mapping"/>; the slot count follows from its size (a mapping too small for one slot throws).</summary>
    public FramePool(DataspaceMapping mapping, FrameGeometry geometry)
    {
        _mapping = mapping;
        _geometry = geometry;
        _stride = Stride(geometry);
        long slots = mapping.Length / _stride;
        Slots = slots is >= 1 and <= 1024
            ? (int)slots
            : throw new PipelineException($"the frame pool of {mapping.Length} bytes holds {slots} slots of {_stride} bytes (1 to 1024 expected)");
    }

    /// <summary>How many frames the pool holds.</summary>
    public int Slots { get; }

    /// <summary>The bytes of one slot: a frame rounded up to whole pages.</summary>
    public static long Stride(FrameGeometry geometry) => (geometry.FrameSize + 4095L) & ~4095L;

    /// <summary>The dataspace size for <paramref name="slots"/> frames.</summary>
    public static long SizeFor(FrameGeometry geometry, int slots) => Stride(geometry) * slots;

    /// <summary>Whether <paramref name="slot"/> (read from a record a peer wrote) names a slot.</summary>
    public bool IsSlot(int slot) => (uint)slot < (uint)Slots;

    /// <summary>Slot <paramref name="slot"/>'s frame, writable (the mapping must be read-write).</summary>
    public Span<byte> Frame(int slot) => _mapping.GetSpan(slot * _stride, _geometry.FrameSize);

    /// <summary>Slot <paramref name="slot"/>'s frame, read-only.</summary>
    public ReadOnlySpan<byte> ReadOnlyFrame(int slot) => _mapping.GetReadOnlySpan(slot * _stride, _geometry.FrameSize);

    /// <inheritdoc/>
    public void Dispose() => _mapping.Dispose();
}
