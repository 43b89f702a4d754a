using System.Buffers;
using L4Rt.Interop;
using L4Rt.Memory;
using L4Rt.Protocol;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Objects;

/// <summary>
/// A dataspace mapped into this process (<see cref="Dataspace.MapAsync"/>): <see cref="Length"/> bytes at a fixed
/// address, writable only when <see cref="IsWritable"/>. A read-only mapping is mapped <c>PROT_READ</c> from a read-only
/// descriptor: the API refuses a write (<see cref="Span"/> throws, <see cref="Write"/> returns <see cref="L4Status.NoRights"/>),
/// and no write can happen through the memory either.
/// </summary>
/// <remarks>
/// <para><b>Revocation.</b> When the capability it was mapped through is revoked, the broker tells this process and its
/// runtime swaps the mapped range, in place and atomically, for private zero pages (<c>mmap MAP_FIXED</c> over the
/// same addresses). From then on <see cref="Status"/> is <see cref="L4Status.InvalidCapability"/> and every access
/// through the API fails with it; a span taken before reads zeros and writes into scratch memory, and never faults
/// (no use-after-unmap, no SIGSEGV). The range is unmapped when the mapping is disposed.</para>
/// <para>Revocation is carried out by the holder's runtime: Linux cannot take pages away from another process's
/// address space, so a process that bypasses this SDK keeps what it had mapped (it gets nothing new).</para>
/// <para>Spans and memory taken from a mapping must not be used after <see cref="Dispose"/>.</para>
/// </remarks>
public sealed unsafe class DataspaceMapping : IDisposable
{
    private const int Pending = 0, Live = 1, Revoked = 2, Disposed = 3;

    private readonly Lock _lock = new();
    private byte* _address;
    private long _length;
    private int _state;
    private View? _view;

    private readonly L4Task _task;
    private readonly ReceiveWindow? _window;

    internal DataspaceMapping(Dataspace dataspace, bool writable)
    {
        _task = dataspace.Owner;
        Dataspace = dataspace;
        IsWritable = writable;
    }

    /// <summary>A flexpage received in a message (a memory item), placed in <paramref name="window"/>.</summary>
    internal DataspaceMapping(L4Task task, ReceiveWindow window, bool writable, long offset)
    {
        _task = task;
        _window = window;
        IsWritable = writable;
        Offset = offset;
    }

    /// <summary>What the broker names this mapping's capability by in a revocation (0 until mapped).</summary>
    internal long Token { get; private set; }

    /// <summary>The capability it was mapped through; null for a flexpage received in a message (it came through the sender's capability).</summary>
    public Dataspace? Dataspace { get; }

    /// <summary>Where in the dataspace the mapped range starts (0 for a whole dataspace mapped through <see cref="Dataspace.MapAsync"/>).</summary>
    public long Offset { get; }

    /// <summary>The receive window a received flexpage was placed in (null otherwise).</summary>
    public ReceiveWindow? Window => _window;

    /// <summary>Whether the memory is mapped read-write.</summary>
    public bool IsWritable { get; }

    /// <summary>The mapped size in bytes.</summary>
    public long Length => _length;

    /// <summary><see cref="L4Status.Ok"/> while mapped; <see cref="L4Status.InvalidCapability"/> once revoked; <see cref="L4Status.Aborted"/> once disposed.</summary>
    public L4Status Status => Volatile.Read(ref _state) switch
    {
        Live => L4Status.Ok,
        Revoked => L4Status.InvalidCapability,
        _ => L4Status.Aborted,
    };

    /// <summary>The whole mapping, writable. Throws <see cref="L4RtException"/> (<see cref="L4Status.NoRights"/>) on a read-only mapping, or with <see cref="Status"/> once it is not mapped.</summary>
    public Span<byte> Span => GetSpan(0, checked((int)Length));

    /// <summary>The whole mapping, read-only (throws <see cref="L4RtException"/> with <see cref="Status"/> once it is not mapped).</summary>
    public ReadOnlySpan<byte> ReadOnlySpan => GetReadOnlySpan(0, checked((int)Length));

    /// <summary>The whole mapping as <see cref="Memory{T}"/> (writable mappings only, as <see cref="Span"/>).</summary>
    public Memory<byte> Memory
    {
        get
        {
            _ = Span; // the same checks
            return (_view ??= new View(this)).Memory;
        }
    }

    /// <summary>The whole mapping as <see cref="ReadOnlyMemory{T}"/>.</summary>
    public ReadOnlyMemory<byte> ReadOnlyMemory
    {
        get
        {
            _ = ReadOnlySpan;
            return (_view ??= new View(this)).Memory;
        }
    }

    /// <summary>The base address, for unsafe code (a read-only mapping faults on a write through it: it is mapped without write permission).</summary>
    public byte* Pointer
    {
        get
        {
            ThrowIfNotLive();
            return _address;
        }
    }

    /// <summary><paramref name="length"/> writable bytes at <paramref name="offset"/> (bounds checked).</summary>
    public Span<byte> GetSpan(long offset, int length)
    {
        if (!IsWritable)
        {
            throw new L4RtException(L4Status.NoRights, "this mapping is read-only: the capability was mapped without the write right");
        }

        CheckRange(offset, length);
        return new Span<byte>(_address + offset, length);
    }

    /// <summary><paramref name="length"/> bytes at <paramref name="offset"/>, read-only (bounds checked).</summary>
    public ReadOnlySpan<byte> GetReadOnlySpan(long offset, int length)
    {
        CheckRange(offset, length);
        return new ReadOnlySpan<byte>(_address + offset, length);
    }

    /// <summary>Copies <paramref name="data"/> to <paramref name="offset"/>: <see cref="L4Status.NoRights"/> when read-only, the <see cref="Status"/> once not mapped.</summary>
    public L4Status Write(long offset, ReadOnlySpan<byte> data)
    {
        if (!IsWritable)
        {
            return L4Status.NoRights;
        }

        lock (_lock)
        {
            if (_state != Live)
            {
                return Status;
            }

            CheckBounds(offset, data.Length);

            data.CopyTo(new Span<byte>(_address + offset, data.Length));
            return L4Status.Ok;
        }
    }

    /// <summary>Copies <paramref name="destination"/>.Length bytes from <paramref name="offset"/>; the <see cref="Status"/> once not mapped.</summary>
    public L4Status Read(long offset, Span<byte> destination)
    {
        lock (_lock)
        {
            if (_state != Live)
            {
                return Status;
            }

            CheckBounds(offset, destination.Length);

            new ReadOnlySpan<byte>(_address + offset, destination.Length).CopyTo(destination);
            return L4Status.Ok;
        }
    }

    /// <summary>Maps the descriptor the broker handed out (takes ownership of it; it is closed once mapped).</summary>
    internal void Map(SafeFileHandle memory, long size, long token)
    {
        using (memory)
        {
            if (size <= 0 || size > ProtocolLimits.MaxDataspaceSize || size % ProtocolLimits.PageSize != 0)
            {
                throw new L4RtException(L4Status.ProtocolViolation, $"the broker reported a dataspace of {size} bytes");
            }

            SharedRegion.Check(memory, size, IsWritable); // never map past the end of the file (SIGBUS)
            lock (_lock)
            {
                if (_state != Pending)
                {
                    throw new L4RtException(L4Status.Aborted, "the mapping was disposed before it was made");
                }

                _address = Libc.Mmap.MapShared(memory, size, IsWritable ? Libc.Mmap.PROT_READ | Libc.Mmap.PROT_WRITE : Libc.Mmap.PROT_READ);
                _length = size;
                Token = token;
                _state = Live;
            }
        }
    }

    /// <summary>
    /// Maps a received flexpage at <paramref name="address"/> (its place in the window): <paramref name="size"/> bytes of
    /// <paramref name="memory"/> from <see cref="Offset"/>. Takes ownership of the descriptor; it is closed once mapped.
    /// </summary>
    internal void MapAt(byte* address, SafeFileHandle memory, long size, long token)
    {
        using (memory)
        {
            SharedRegion.Check(memory, Offset + size, IsWritable, exactSize: false); // never map past the end of the file (SIGBUS)
            lock (_lock)
            {
                if (_state != Pending)
                {
                    throw new L4RtException(L4Status.Aborted, "the mapping was disposed before it was made");
                }

                Libc.Mmap.MapSharedAt(address, memory, Offset, size, IsWritable ? Libc.Mmap.PROT_READ | Libc.Mmap.PROT_WRITE : Libc.Mmap.PROT_READ);
                _address = address;
                _length = size;
                Token = token;
                _state = Live;
            }
        }
    }

    /// <summary>The capability was revoked: the pages go, the addresses stay (zero pages) until disposed.</summary>
    internal void Revoke()
    {
        lock (_lock)
        {
            if (_state == Live)
            {
                Libc.Mmap.ReplaceWithZeroPages(_address, _length);
                _state = Revoked;
            }
        }
    }

    /// <summary>Unmaps the range (after this, spans taken from it must not be used).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_state == Disposed)
            {
                return;
            }

            bool wasMapped = _state is Live or Revoked;
            if (wasMapped && _window is not null)
            {
                Libc.Mmap.Unreserve(_address, _length); // the addresses go back to the window's reservation
            }
            else if (wasMapped)
            {
                Libc.Mmap.Unmap(_address, _length);
            }

            _address = null;
            _state = Disposed;
        }

        _task.UntrackMapping(this);
        if (_window is not null)
        {
            _window.Release();
            _task.ReleaseMapping(Token); // the broker takes the mapping out of the derivation tree
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{(Dataspace is { } ds ? $"dataspace mapping of slot {ds.Slot}" : $"received flexpage at {Offset}")}: {_length} bytes, {(IsWritable ? "read-write" : "read-only")}, {Status}";

    private void CheckRange(long offset, int length)
    {
        ThrowIfNotLive();
        CheckBounds(offset, length);
    }

    private void CheckBounds(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > _length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"{length} bytes at {offset} do not fit a mapping of {_length} bytes");
        }
    }

    private void ThrowIfNotLive()
    {
        L4Status status = Status;
        if (status != L4Status.Ok)
        {
            throw new L4RtException(status, status == L4Status.InvalidCapability
                ? "the dataspace capability this mapping was made through was revoked"
                : "the mapping was disposed");
        }
    }

    /// <summary><see cref="Memory{T}"/> over the mapped range (pinning is a no-op: it is unmanaged memory).</summary>
    private sealed class View(DataspaceMapping mapping) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(mapping._address, checked((int)mapping._length));

        public override MemoryHandle Pin(int elementIndex = 0) => new(mapping._address + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
