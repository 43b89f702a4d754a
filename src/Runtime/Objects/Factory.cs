using L4Rt.Ipc;
using L4Rt.Protocol;

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
        using ControlResponse response = await Task.CallAsync(Opcode.CreateGate, new Payload().Int32(Slot).Int32(threadCap.Slot).UInt64(label), cancellationToken).ConfigureAwait(false);
        response.ThrowIfError("create gate");
        return new Gate(Task, new FrameReader(response.Payload).ReadInt32(), CapRights.All);
    }

    /// <summary>Creates an IRQ bound to <paramref name="thread"/>; its triggers arrive in that thread's open wait with <paramref name="label"/>.</summary>
    public async Task<Irq> CreateIrqAsync(L4Thread thread, ulong label, CancellationToken cancellationToken = default)
    {
        Capability threadCap = ThreadCapability(thread);
        using ControlResponse response = await Task.CallAsync(Opcode.CreateIrq, new Payload().Int32(Slot).Int32(threadCap.Slot).UInt64(label), cancellationToken).ConfigureAwait(false);
        response.ThrowIfError("create IRQ");
        return new Irq(Task, new FrameReader(response.Payload).ReadInt32(), CapRights.All);
    }

    /// <summary>Creates a zero-copy FIFO channel with a ring of <paramref name="capacity"/> bytes (a power of two), charged to this factory.</summary>
    public async Task<Channel> CreateChannelAsync(long capacity, CancellationToken cancellationToken = default)
    {
        using ControlResponse response = await Task.CallAsync(Opcode.CreateChannel, new Payload().Int32(Slot).Int64(capacity), cancellationToken).ConfigureAwait(false);
        response.ThrowIfError("create channel");
        return new Channel(Task, new FrameReader(response.Payload).ReadInt32(), CapRights.All);
    }

    /// <summary>Creates a child factory whose quota (<paramref name="bytes"/>, <paramref name="objects"/>) is carved out of this one's.</summary>
    public async Task<Factory> CreateFactoryAsync(long bytes, int objects, CancellationToken cancellationToken = default)
    {
        using ControlResponse response = await Task.CallAsync(Opcode.CreateFactory, new Payload().Int32(Slot).Int64(bytes).Int32(objects), cancellationToken).ConfigureAwait(false);
        response.ThrowIfError("create factory");
        return new Factory(Task, new FrameReader(response.Payload).ReadInt32(), CapRights.All);
    }

    /// <summary>Creates a receiving thread whose objects are charged to this factory.</summary>
    public Task<L4Thread> CreateThreadAsync(CancellationToken cancellationToken = default) => Task.CreateThreadAsync(this, cancellationToken);

    /// <summary>The quota and current use.</summary>
    public async Task<FactoryUsage> GetUsageAsync(CancellationToken cancellationToken = default)
    {
        using ControlResponse response = await Task.CallAsync(Opcode.FactoryUsage, new Payload().Int32(Slot), cancellationToken).ConfigureAwait(false);
        response.ThrowIfError("factory usage");
        FrameReader reader = new(response.Payload);
        FactoryUsage usage = new(reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        reader.End();
        return usage;
    }

    private Capability ThreadCapability(L4Thread thread)
    {
        ArgumentNullException.ThrowIfNull(thread);
        return thread.Capability is { } cap && cap.Task == Task
            ? cap
            : throw new ArgumentException("The thread must be created through this task (L4Task.CreateThreadAsync).", nameof(thread));
    }
}
