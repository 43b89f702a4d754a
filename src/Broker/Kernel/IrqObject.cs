using L4Rt.Memory;
using L4Rt.Protocol;

namespace L4Rt.Broker.Kernel;

/// <summary>
/// An IRQ object: triggers coalesce into a count in its region (the link layout's State word), delivered to
/// the bound thread's next open wait with protocol Irq and the IRQ's label.
/// </summary>
internal sealed class IrqObject(long id, TaskObject creator, ThreadObject thread, ulong label, LinkRegion region, int index) : KernelObject(id, creator)
{
    internal override CapKind Kind => CapKind.Irq;

    internal ThreadObject Thread { get; } = thread;

    internal ulong Label { get; } = label;

    internal LinkRegion Region { get; } = region;

    internal int Index { get; } = index;

    internal long Triggers { get; set; }
}
