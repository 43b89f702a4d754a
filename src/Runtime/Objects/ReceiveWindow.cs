using L4Rt.Interop;
using L4Rt.Protocol;

namespace L4Rt.Objects;

/// <summary>
/// A receive window: a range of this process's address space reserved for flexpages (memory items) other tasks send
/// it. Name it in a thread's buffer registers (<see cref="ReceiveBuffers"/>) and each flexpage that arrives is mapped
/// into the window — the sender's pages themselves, no copy — and handed over as a <see cref="DataspaceMapping"/>
/// (<see cref="L4ThreadExtensions.GetReceivedMapping"/>). A flexpage larger than what is left of the window is refused
/// for the sender with <see cref="L4Status.NoReceiveBuffer"/>, and nothing of that message is delivered.
/// </summary>
/// <remarks>
/// Flexpages are placed one after the other from the start of the window; the space is reused once every mapping placed
/// in it is disposed. The reservation costs address space only (no memory is committed).
/// </remarks>
public sealed unsafe class ReceiveWindow : IDisposable
{
    private readonly Lock _lock = new();
    private readonly L4Task _task;
    private byte* _base;
    private long _used;
    private int _live;

    internal ReceiveWindow(L4Task task, int id, long size)
    {
        if (size <= 0 || size > ProtocolLimits.MaxDataspaceSize || size % ProtocolLimits.PageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"a receive window is whole pages ({ProtocolLimits.PageSize} bytes), at most {ProtocolLimits.MaxDataspaceSize} bytes: not {size}");
        }

        _task = task;
        Id = id;
        Size = size;
        _base = Libc.Mmap.Reserve(size);
    }

    /// <summary>The window's size in bytes.</summary>
    public long Size { get; }

    /// <summary>
    /// Flexpages land here only when their message carries <see cref="Ipc.MsgTagFlags.CopyMemory"/>: a window that copies
    /// what arrives somewhere else (a gate bridge's) sets it, so no sender's pages are copied without its consent.
    /// Without the flag such items are refused as if the window were full (<see cref="L4Status.NoReceiveBuffer"/>).
    /// </summary>
    public bool RequiresCopyOptIn { get; set; }

    /// <summary>Bytes left for flexpages still to come.</summary>
    public long Available
    {
        get
        {
            lock (_lock)
            {
                return _base == null ? 0 : Size - _used;
            }
        }
    }

    /// <summary>The task-local number buffer registers name the window by.</summary>
    internal int Id { get; }

    /// <summary>Takes <paramref name="size"/> bytes of the window for one flexpage; false when they are not left.</summary>
    internal bool TryPlace(long size, out byte* address)
    {
        lock (_lock)
        {
            if (_base == null || size > Size - _used)
            {
                address = null;
                return false;
            }

            address = _base + _used;
            _used += size;
            _live++;
            return true;
        }
    }

    /// <summary>A mapping placed here was disposed (its range is reserved again); the last one frees the whole window for reuse.</summary>
    internal void Release()
    {
        lock (_lock)
        {
            if (--_live == 0)
            {
                _used = 0;
            }
        }
    }

    /// <summary>Releases the reservation. Dispose the mappings placed in it first: their spans end here.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_base == null)
            {
                return;
            }

            if (_live > 0)
            {
                throw new InvalidOperationException($"{_live} received mappings still live in this window: dispose them first");
            }

            Libc.Mmap.Unmap(_base, Size);
            _base = null;
        }

        _task.ForgetWindow(this);
    }

    /// <inheritdoc/>
    public override string ToString() => $"receive window {Id}: {Size} bytes, {Available} free";
}
