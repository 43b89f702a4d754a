using L4Rt.Ipc;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;

namespace L4Rt.Objects;

/// <summary>
/// A factory: creates kernel objects within its quota of bytes and objects. Creation beyond quota fails
/// with <see cref="L4Status.QuotaExceeded"/> and creates nothing; deleting an object refunds it.
/// </summary>
public sealed class Factory : Capability
{
    internal Factory(L4Task task, int slot, CapRights rights)
        : base(task, slot, CapKind.Factory, rights)
    {
    }

    /// <summary>Creates a gate bound to <paramref name="thread"/> (a thread of this task) carrying <paramref name="label"/>.</summary>
    public async Task<Gate> CreateGateAsync(L4Thread thread, ulong label, CancellationToken cancellationToken = default)
    {
        Capability threadCap = ThreadCapability(thread);
        SlotReply created = await Owner.RequestAsync(new CreateGate.Request(Slot, threadCap.Slot, label), "create gate", cancellationToken).ConfigureAwait(false);
        return new Gate(Owner, created.Slot, CapRights.All);
    }

    /// <summary>Creates an IRQ bound to <paramref name="thread"/>; its triggers arrive in that thread's open wait with <paramref name="label"/>.</summary>
    public async Task<Irq> CreateIrqAsync(L4Thread thread, ulong label, CancellationToken cancellationToken = default)
    {
        Capability threadCap = ThreadCapability(thread);
        SlotReply created = await Owner.RequestAsync(new CreateIrq.Request(Slot, threadCap.Slot, label), "create IRQ", cancellationToken).ConfigureAwait(false);
        return new Irq(Owner, created.Slot, CapRights.All);
    }

    /// <summary>Creates a zero-copy FIFO channel with a ring of <paramref name="capacity"/> bytes (a power of two), charged to this factory.</summary>
    public async Task<Channel> CreateChannelAsync(long capacity, CancellationToken cancellationToken = default)
    {
        SlotReply created = await Owner.RequestAsync(new CreateChannel.Request(Slot, capacity), "create channel", cancellationToken).ConfigureAwait(false);
        return new Channel(Owner, created.Slot, CapRights.All);
    }

    /// <summary>
    /// Creates a dataspace of <paramref name="size"/> bytes (a whole number of 4 KiB pages, at most 1 GiB), zero-filled,
    /// charged to this factory's byte quota until it is destroyed.
    /// </summary>
    public async Task<Dataspace> CreateDataspaceAsync(long size, CancellationToken cancellationToken = default)
    {
        SlotReply created = await Owner.RequestAsync(new CreateDataspace.Request(Slot, size), "create dataspace", cancellationToken).ConfigureAwait(false);
        return new Dataspace(Owner, created.Slot, CapRights.All);
    }

    /// <summary>
    /// Creates a paged dataspace of <paramref name="size"/> bytes (a whole number of pages, charged to the byte quota like
    /// any dataspace) whose pages are supplied on first touch by the pager behind <paramref name="pager"/> (a gate with
    /// the send and map rights): a task that maps it and touches a page nobody supplied yet sends a <see cref="PageFault"/>
    /// IPC naming <paramref name="pagerId"/>, and waits at most <paramref name="faultTimeout"/> (1 ms to 60 s) for the
    /// answer before its mapping is torn down (see <see cref="DataspaceMapping"/>). The pager places pages through
    /// <see cref="Dataspace.MapBackingAsync"/>.
    /// </summary>
    public async Task<Dataspace> CreatePagedDataspaceAsync(long size, Gate pager, ulong pagerId, TimeSpan faultTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pager);
        double ms = Math.Ceiling(faultTimeout.TotalMilliseconds);
        int timeoutMs = ms is >= 1 and <= CreatePagedDataspace.MaxFaultTimeoutMs
            ? (int)ms
            : throw new ArgumentOutOfRangeException(nameof(faultTimeout), $"a fault timeout is 1 ms to {CreatePagedDataspace.MaxFaultTimeoutMs / 1000} s");
        SlotReply created = await Owner.RequestAsync(new CreatePagedDataspace.Request(Slot, size, pager.Slot, pagerId, timeoutMs), "create paged dataspace", cancellationToken).ConfigureAwait(false);
        return new Dataspace(Owner, created.Slot, CapRights.All);
    }

    /// <summary>Creates a child factory whose quota (<paramref name="bytes"/>, <paramref name="objects"/>) is carved out of this one's.</summary>
    public async Task<Factory> CreateFactoryAsync(long bytes, int objects, CancellationToken cancellationToken = default)
    {
        SlotReply created = await Owner.RequestAsync(new CreateFactory.Request(Slot, bytes, objects), "create factory", cancellationToken).ConfigureAwait(false);
        return new Factory(Owner, created.Slot, CapRights.All);
    }

    /// <summary>Creates a receiving thread whose objects are charged to this factory.</summary>
    public Task<L4Thread> CreateThreadAsync(CancellationToken cancellationToken = default) => Owner.CreateThreadAsync(this, cancellationToken);

    /// <summary>The quota and current use.</summary>
    public async Task<FactoryUsage> GetUsageAsync(CancellationToken cancellationToken = default)
    {
        Protocol.Messages.FactoryUsage.Reply u = await Owner.RequestAsync(new Protocol.Messages.FactoryUsage.Request(Slot), "factory usage", cancellationToken).ConfigureAwait(false);
        return new(u.QuotaBytes, u.UsedBytes, u.QuotaObjects, u.UsedObjects, u.QuotaFds, u.UsedFds);
    }

    private Capability ThreadCapability(L4Thread thread)
    {
        ArgumentNullException.ThrowIfNull(thread);
        return thread.Capability is { } cap && cap.Owner == Owner
            ? cap
            : throw new ArgumentException("The thread must be created through this task (L4Task.CreateThreadAsync).", nameof(thread));
    }
}
