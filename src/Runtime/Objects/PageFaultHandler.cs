using L4Rt.Interop;
using L4Rt.Ipc;
using L4Rt.Protocol;

namespace L4Rt.Objects;

/// <summary>
/// A task's page-fault thread: one userfaultfd for the process, on which every paged mapping and every pager backing is
/// registered, and one dedicated thread that reads its fault messages and turns each into a <see cref="PageFault"/>
/// IPC to the mapping's pager. The faulting thread stays blocked in the kernel meanwhile; the fault thread wakes it
/// once the page is in the dataspace, or tears the mapping down (zero pages, a status) when the fault cannot be served.
/// </summary>
/// <remarks>
/// A fault on a page that is resident already (another thread's fault on the same page was served a moment ago, or
/// another process had it supplied) is answered by waking, without asking the pager: within a process, concurrent
/// faults on one page cost one IPC. A pager's "Ok" is believed only when the page is then resident (mincore).
/// </remarks>
internal sealed unsafe class PageFaultHandler : IDisposable
{
    private const int BatchSize = 16;

    private readonly Lock _lock = new();
    private readonly List<DataspaceMapping> _ranges = []; // registered, live: guarded by _lock
    private readonly Dictionary<int, Gate> _pagers = []; // this task's pager capabilities by slot: guarded by _lock
    private readonly SafeFdHandle _uffd;
    private readonly SafeFdHandle _stop;
    private readonly L4Task _task;
    private readonly Thread _thread;
    private readonly L4Thread _caller = new();
    private int _disposed;

    private PageFaultHandler(L4Task task, SafeFdHandle uffd)
    {
        _task = task;
        _uffd = uffd;
        _stop = Libc.Sys.CreateEventFd();
        _thread = new Thread(Run) { IsBackground = true, Name = "l4rt page faults" };
        _thread.Start();
    }

    private long _served, _alreadyResident, _failures; // written by the fault thread only

    /// <summary>Faults served by asking a pager (every mapping of this task).</summary>
    internal long Served => Volatile.Read(ref _served);

    /// <summary>Faults answered by waking only: the page was resident already.</summary>
    internal long AlreadyResident => Volatile.Read(ref _alreadyResident);

    /// <summary>Mappings torn down because a fault could not be served.</summary>
    internal long Failures => Volatile.Read(ref _failures);

    /// <summary>Opens the process's userfaultfd and starts the fault thread; throws <see cref="PlatformNotSupportedException"/> with the kernel's reason where userfaultfd is refused.</summary>
    internal static PageFaultHandler Create(L4Task task)
    {
        SafeFdHandle uffd = Libc.UserFaultFd.TryCreate(out string reason) ?? throw new PlatformNotSupportedException($"paged dataspaces need userfaultfd: {reason}");
        return new PageFaultHandler(task, uffd);
    }

    /// <summary>Whether this process can have paged mappings, and if not, why (tests skip with the reason).</summary>
    internal static bool IsSupported(out string reason)
    {
        using SafeFdHandle? probe = Libc.UserFaultFd.TryCreate(out reason);
        return probe is not null;
    }

    /// <summary>The gate for the pager capability at <paramref name="slot"/> (one per slot: its link is set up once).</summary>
    internal Gate PagerAt(int slot)
    {
        lock (_lock)
        {
            if (!_pagers.TryGetValue(slot, out Gate? gate))
            {
                _pagers[slot] = gate = new Gate(_task, slot, CapRights.Send);
            }

            return gate;
        }
    }

    /// <summary>Registers a mapping's range (just mapped, not yet published) for missing-page faults.</summary>
    internal void Register(DataspaceMapping mapping)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            Libc.UserFaultFd.RegisterMissing(_uffd, mapping.Address, mapping.Length);
            _ranges.Add(mapping);
        }
    }

    /// <summary>
    /// Takes a mapping out (revoked or disposed): the fault thread no longer touches its range. No UFFDIO_UNREGISTER: that
    /// wakes the threads blocked on the range while it still maps the file, and their retried faults would put zero
    /// pages into the dataspace for everyone. The caller replaces or unmaps the range instead, which ends its registration.
    /// </summary>
    internal void Forget(DataspaceMapping mapping)
    {
        lock (_lock)
        {
            _ranges.Remove(mapping);
        }
    }

    /// <summary>Wakes threads blocked on faults in a range (to retry on what is there now).</summary>
    internal void Wake(byte* address, long length) => Libc.UserFaultFd.Wake(_uffd, address, length);

    /// <summary>Places one page into a registered backing; 0 or the errno.</summary>
    internal int Copy(byte* destination, byte* source) => Libc.UserFaultFd.Copy(_uffd, destination, source, ProtocolLimits.PageSize);

    private void Run()
    {
        Span<Libc.UserFaultFd.Message> messages = stackalloc Libc.UserFaultFd.Message[BatchSize];
        Span<Libc.Sys.PollFd> fds = stackalloc Libc.Sys.PollFd[2];
        fds[0] = new Libc.Sys.PollFd { Fd = (int)_uffd.DangerousGetHandle(), Events = Libc.Sys.POLLIN };
        fds[1] = new Libc.Sys.PollFd { Fd = _stop.Fd, Events = Libc.Sys.POLLIN };
        while (Volatile.Read(ref _disposed) == 0)
        {
            fds[0].Revents = fds[1].Revents = 0;
            if (Libc.Sys.Poll(fds, -1) <= 0 || fds[1].Revents != 0)
            {
                continue; // asked to stop (the loop condition says so)
            }

            int count = Libc.UserFaultFd.Read(_uffd, messages);
            for (int i = 0; i < count; i++)
            {
                ref Libc.UserFaultFd.Message message = ref messages[i];
                if (message.Event == Libc.UserFaultFd.UFFD_EVENT_PAGEFAULT)
                {
                    Serve((byte*)(message.Address & ~(ulong)(ProtocolLimits.PageSize - 1)), (message.Flags & Libc.UserFaultFd.UFFD_PAGEFAULT_FLAG_WRITE) != 0);
                }
            }
        }
    }

    private void Serve(byte* page, bool isWrite)
    {
        DataspaceMapping? mapping = Find(page);
        if (mapping is null)
        {
            Wake(page, ProtocolLimits.PageSize); // the range was just revoked or disposed: the thread retries on what is there now
            return;
        }

        if (mapping.IsBacking)
        {
            Fail(mapping, L4Status.Aborted); // a pager touched its own backing: nobody would serve that fault
            return;
        }

        if (Libc.Mincore.IsResident(page, ProtocolLimits.PageSize))
        {
            Volatile.Write(ref _alreadyResident, _alreadyResident + 1);
            Wake(page, ProtocolLimits.PageSize); // served already: a second fault on the page, or another process had it supplied
            return;
        }

        long offset = page - mapping.Address;
        L4Status status = Ask(mapping, offset, isWrite);
        if (status == L4Status.Ok && !Libc.Mincore.IsResident(page, ProtocolLimits.PageSize))
        {
            status = L4Status.ProtocolViolation; // the pager said it placed the page and did not
        }

        if (status != L4Status.Ok)
        {
            Fail(mapping, status);
            return;
        }

        Volatile.Write(ref _served, _served + 1);
        mapping.CountFault();
        Wake(page, ProtocolLimits.PageSize);
    }

    /// <summary>The fault as an IPC to the mapping's pager, within its fault timeout; the pager's checked answer.</summary>
    private L4Status Ask(DataspaceMapping mapping, long offset, bool isWrite)
    {
        MsgTag tag = PageFault.Request(_caller.Utcb, mapping.PagerId, offset, isWrite);
        IpcResult result = _caller.Call(mapping.Pager!, tag, mapping.FaultTimeout);
        return result.IsOk ? PageFault.CheckReply(result.Tag, _caller.Utcb, offset) : result.Status;
    }

    private DataspaceMapping? Find(byte* page)
    {
        lock (_lock)
        {
            foreach (DataspaceMapping mapping in _ranges)
            {
                if (page >= mapping.Address && page < mapping.Address + mapping.Length)
                {
                    return mapping;
                }
            }

            return null;
        }
    }

    /// <summary>Tears a mapping down (zero pages, the status) unless it was revoked or disposed meanwhile, then wakes its faulting threads.</summary>
    private void Fail(DataspaceMapping mapping, L4Status status)
    {
        lock (_lock)
        {
            if (!_ranges.Remove(mapping))
            {
                return;
            }

            mapping.Fail(status);
            Volatile.Write(ref _failures, _failures + 1);
        }

        Wake(mapping.Address, mapping.Length);
    }

    /// <summary>Stops the fault thread; every paged mapping still registered is torn down (<see cref="L4Status.Aborted"/>), so no thread stays blocked.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Libc.Sys.SignalEventFd(_stop);
        _caller.Abort(); // a call to a pager in progress returns at once
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        lock (_lock)
        {
            foreach (DataspaceMapping mapping in _ranges)
            {
                if (!mapping.IsBacking)
                {
                    mapping.Fail(L4Status.Aborted);
                }

                Wake(mapping.Address, mapping.Length);
            }

            _ranges.Clear();
        }

        _caller.Dispose();
        _stop.Dispose();
        _uffd.Dispose();
    }
}
