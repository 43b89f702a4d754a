using System.Buffers;
using L4Rt.Interop;
using L4Rt.Ipc;
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
/// <para><b>Paged dataspaces.</b> A mapping of a dataspace made with a pager (<see cref="Factory.CreatePagedDataspaceAsync"/>)
/// is registered with this process's userfaultfd: the first touch of a page that nobody supplied yet blocks the touching
/// thread in the kernel while this process's fault thread asks the pager (a <see cref="PageFault"/> IPC, at most the
/// dataspace's fault timeout), and returns once the pager placed the page. A page supplied once is there for every
/// mapping of the dataspace in every process (it is the same shared file): it never faults again. When a fault cannot
/// be served — the pager is gone (<see cref="L4Status.DestinationDeleted"/>), does not answer in time
/// (<see cref="L4Status.SendTimeout"/>/<see cref="L4Status.ReceiveTimeout"/>), refuses (<see cref="L4Status.Aborted"/>,
/// <see cref="L4Status.NoRights"/>, <see cref="L4Status.InvalidArgument"/>) or answers garbage
/// (<see cref="L4Status.ProtocolViolation"/>) — the mapping is torn down as on revocation: the whole range becomes private
/// zero pages, the faulting access reads zeros (or writes into scratch) and goes on, never faults and never hangs, and
/// <see cref="Status"/> from then on is that status. Pages the pager did supply stay in the dataspace for other mappings.
/// Faults taken inside a system call (a <c>read(2)</c> into the range, say) are not served (<c>UFFD_USER_MODE_ONLY</c>): that
/// call fails with EFAULT; touch the pages from user code first.</para>
/// <para>Spans and memory taken from a mapping must not be used after <see cref="Dispose"/>.</para>
/// </remarks>
public sealed unsafe class DataspaceMapping : IDisposable
{
    private const int Pending = 0, Live = 1, Revoked = 2, Disposed = 3, Failed = 4;

    private readonly Lock _lock = new();
    private byte* _address;
    private long _length;
    private int _state;
    private View? _view;
    private L4Status _failure;
    private long _faultsServed;
    private PageFaultHandler? _faults;
    private byte* _scratch; // a backing's page-aligned source page for UFFDIO_COPY

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

    /// <summary>The pager gate of a paged mapping (null for an ordinary one and for a backing).</summary>
    internal Gate? Pager { get; private set; }

    /// <summary>The id the pager knows the dataspace by.</summary>
    internal ulong PagerId { get; private set; }

    /// <summary>How long a fault waits for the pager.</summary>
    internal L4Timeout FaultTimeout { get; private set; }

    /// <summary>Whether this is a pager's backing (see <see cref="PagerBacking"/>): pages are placed into it, never faulted in.</summary>
    internal bool IsBacking { get; private set; }

    /// <summary>The base address (the fault thread's view: no state check).</summary>
    internal byte* Address => _address;

    /// <summary>Whether the pages of this mapping are supplied by a pager on first touch (see the remarks).</summary>
    public bool IsPaged => Pager is not null;

    /// <summary>How many faults on this mapping this process's fault thread served by asking the pager (paged mappings; 0 otherwise).</summary>
    public long FaultsServed => Volatile.Read(ref _faultsServed);

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

    /// <summary>
    /// <see cref="L4Status.Ok"/> while mapped; <see cref="L4Status.InvalidCapability"/> once revoked; for a paged mapping
    /// torn down by a fault that could not be served, why (see the remarks); <see cref="L4Status.Aborted"/> once disposed.
    /// </summary>
    public L4Status Status => Volatile.Read(ref _state) switch
    {
        Live => L4Status.Ok,
        Revoked => L4Status.InvalidCapability,
        Failed => _failure, // written before the state (pairs with the Volatile.Write in Fail)
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

                _address = IsWritable ? Libc.Mmap.MapShared(memory, size, Libc.Mmap.PROT_READ | Libc.Mmap.PROT_WRITE)
                    : _faults is null ? Libc.Mmap.MapShared(memory, size, Libc.Mmap.PROT_READ)
                    : Libc.Mmap.MapPrivate(memory, size, Libc.Mmap.PROT_READ); // see MapPrivate: userfaultfd needs it
                _length = size;
                Token = token;
                if (_faults is not null)
                {
                    try
                    {
                        _faults.Register(this); // before anyone can touch it: a page not supplied must fault to the pager
                    }
                    catch
                    {
                        Libc.Mmap.Unmap(_address, _length);
                        _address = null;
                        throw;
                    }
                }

                _state = Live;
            }
        }
    }

    /// <summary>Makes this a paged mapping, served by <paramref name="faults"/> from <paramref name="pager"/> (before <see cref="Map"/>).</summary>
    internal void UsePager(PageFaultHandler faults, Gate pager, ulong pagerId, int faultTimeoutMs)
    {
        _faults = faults;
        Pager = pager;
        PagerId = pagerId;
        FaultTimeout = L4Timeout.FromMilliseconds(faultTimeoutMs);
    }

    /// <summary>Makes this a pager's backing, placed into through <paramref name="faults"/> (before <see cref="Map"/>).</summary>
    internal void UseAsBacking(PageFaultHandler faults)
    {
        _faults = faults;
        IsBacking = true;
        _scratch = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)ProtocolLimits.PageSize, (nuint)ProtocolLimits.PageSize);
    }

    /// <summary>
    /// Places one page at <paramref name="offset"/> of a backing, atomically (UFFDIO_COPY): <see cref="L4Status.Ok"/>,
    /// <see cref="L4Status.AlreadyExists"/> when the dataspace has that page already, or the <see cref="Status"/> once not mapped.
    /// </summary>
    internal L4Status Supply(long offset, ReadOnlySpan<byte> page)
    {
        if (page.Length != ProtocolLimits.PageSize)
        {
            throw new ArgumentException($"a page is {ProtocolLimits.PageSize} bytes, not {page.Length}", nameof(page));
        }

        lock (_lock)
        {
            if (_state != Live)
            {
                return Status;
            }

            if (offset < 0 || offset % ProtocolLimits.PageSize != 0 || offset > _length - ProtocolLimits.PageSize)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"{offset} is not the offset of a page of a {_length}-byte dataspace");
            }

            page.CopyTo(new Span<byte>(_scratch, page.Length)); // UFFDIO_COPY wants a page-aligned source
            int errno = _faults!.Copy(_address + offset, _scratch);
            return errno switch
            {
                0 => L4Status.Ok,
                Libc.Errno.EEXIST => L4Status.AlreadyExists,
                _ => throw new L4RtException(L4Status.Aborted, $"UFFDIO_COPY into the backing failed with errno {errno}"),
            };
        }
    }

    /// <summary>Whether the page at <paramref name="offset"/> of a backing is in the dataspace already.</summary>
    internal bool IsSupplied(long offset)
    {
        lock (_lock)
        {
            if (_state != Live)
            {
                return false;
            }

            CheckBounds(offset, 1);
            return Libc.Mincore.IsResident(_address + (offset & ~(ProtocolLimits.PageSize - 1)), ProtocolLimits.PageSize);
        }
    }

    /// <summary>Counts a fault the fault thread served for this mapping.</summary>
    internal void CountFault() => Interlocked.Increment(ref _faultsServed);

    /// <summary>
    /// A fault on this paged mapping could not be served: the range becomes private zero pages (which also ends its
    /// userfaultfd registration), and <see cref="Status"/> says why. Called by the fault thread only, under its registry
    /// lock, and never takes this mapping's lock: the thread holding that lock may be the faulting one.
    /// </summary>
    internal void Fail(L4Status status)
    {
        Libc.Mmap.ReplaceWithZeroPages(_address, _length);
        _failure = status;
        Volatile.Write(ref _state, Failed); // after the status (pairs with Status's Volatile.Read)
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
                Libc.Mmap.ReplaceWithZeroPages(_address, _length); // first: a paged range's registration goes with it
                _faults?.Forget(this);
                _state = Revoked;
                _faults?.Wake(_address, _length); // a thread blocked on a fault here retries on the zero pages
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

            bool wasMapped = _state is Live or Revoked or Failed;
            if (wasMapped)
            {
                _faults?.Forget(this); // before the range goes: the fault thread must not tear down addresses no longer ours
            }

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
            if (_scratch is not null)
            {
                System.Runtime.InteropServices.NativeMemory.AlignedFree(_scratch);
                _scratch = null;
            }
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
            throw new L4RtException(status, status switch
            {
                L4Status.InvalidCapability => "the dataspace capability this mapping was made through was revoked",
                L4Status.Aborted when Volatile.Read(ref _state) == Disposed => "the mapping was disposed",
                _ => $"a page fault on this paged mapping could not be served ({status}): it was torn down",
            });
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
