using System.Buffers;

namespace L4Rt.Memory;

/// <summary>
/// A <see cref="Memory{T}"/> view of one record inside a channel ring, reused record after record (no allocation
/// per record). Valid only until the enumerator moves on; pinning is a no-op (the ring is unmanaged memory).
/// </summary>
internal sealed unsafe class RingMemory : MemoryManager<byte>
{
    private byte* _pointer;
    private int _length;

    internal void Set(ReadOnlySpan<byte> record)
    {
        fixed (byte* p = record)
        {
            _pointer = p; // the ring is unmanaged memory: the address stays valid after the fixed block
        }

        _length = record.Length;
    }

    public override Span<byte> GetSpan() => new(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing) => _pointer = null;
}
