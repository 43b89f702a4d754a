using L4Rt.Ipc;
using L4Rt.Memory;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;

namespace L4Rt.Objects;

/// <summary>
/// An IRQ object: an asynchronous, coalescing notification. Any holder (with the send right) triggers it;
/// triggers that arrive while the receiver is busy add up and are delivered once, in its next open wait,
/// with protocol <see cref="SystemProtocol.Irq"/>, the IRQ's label, and the count in MR0.
/// </summary>
public sealed class Irq : Capability
{
    private readonly Lock _lock = new();
    private LinkRegion? _region;
    private DoorbellRegion? _doorbell;
    private int _hint;
    private UseGuard _guard;

    internal Irq(L4Task task, int slot, CapRights rights)
        : base(task, slot, CapKind.Irq, rights)
    {
    }

    /// <summary>
    /// Triggers directly through shared memory (the first call maps the IRQ, a control call; later ones make
    /// no syscall unless the receiver sleeps). Returns <see cref="L4Status.DestinationDeleted"/> once the IRQ is gone.
    /// </summary>
    public L4Status Trigger()
    {
        if (!_guard.TryEnter(out bool release))
        {
            if (release)
            {
                ReleaseMappings();
            }

            return L4Status.DestinationDeleted;
        }

        try
        {
            return TriggerCore();
        }
        finally
        {
            if (_guard.Exit())
            {
                ReleaseMappings();
            }
        }
    }

    /// <summary>Deletes the capability (see <see cref="Capability.DeleteAsync"/>) and unmaps the IRQ once no trigger is in progress.</summary>
    private protected override void OnDeleted()
    {
        Owner.UntrackIrq(this);
        Close();
    }

    /// <summary>The task is closing (or the capability was deleted): unmap once no trigger is in progress.</summary>
    internal void Close()
    {
        if (_guard.Dispose())
        {
            ReleaseMappings();
        }
    }

    private void ReleaseMappings()
    {
        _region?.Dispose();
        _doorbell?.Dispose();
    }

    private L4Status TriggerCore()
    {
        if (_region is null)
        {
            lock (_lock)
            {
                if (_region is null)
                {
                    try
                    {
                        Attach();
                    }
                    catch (L4RtException e)
                    {
                        return e.Status;
                    }
                }
            }
        }

        ref LinkLayout l = ref _region!.Layout;
        if (Volatile.Read(ref l.ReceiverDead) != 0)
        {
            // Gone for good: the mappings go when this trigger leaves (the guard's last user releases), and the
            // task stops tracking it.
            Owner.UntrackIrq(this);
            _guard.Dispose();
            return L4Status.DestinationDeleted;
        }

        Interlocked.Increment(ref l.State); // pairs with the receiver's Exchange(State, 0)
        _doorbell!.RingWithHint(_hint);
        return L4Status.Ok;
    }

    /// <summary>Triggers through the broker (a control call; what <c>l4rt irq trigger</c> does).</summary>
    public async Task TriggerViaBrokerAsync(CancellationToken cancellationToken = default)
    {
        await Owner.RequestAsync(new IrqTrigger.Request(Slot), "IRQ trigger", cancellationToken).ConfigureAwait(false);
    }

    private void Attach()
    {
        IrqAttach.Reply attached = Owner.Request(new IrqAttach.Request(Slot), "IRQ attach");
        LinkRegion region;
        try
        {
            region = LinkRegion.Attach(attached.Region);
        }
        catch
        {
            attached.Doorbell.Dispose();
            throw;
        }

        try
        {
            _doorbell = DoorbellRegion.Attach(attached.Doorbell);
        }
        catch
        {
            region.Dispose();
            throw;
        }

        _hint = region.Layout.HintIndex; // read once; the receiver validates whatever we ring
        Owner.TrackIrq(this);
        Volatile.Write(ref _region, region);
    }
}
