using L4Rt.Protocol;

namespace L4Rt.Broker.Kernel;

/// <summary>An IPC gate: bound to one thread, carrying a label only that thread's task learns.</summary>
internal sealed class GateObject(long id, TaskObject creator, ThreadObject thread, ulong label) : KernelObject(id, creator)
{
    internal override CapKind Kind => CapKind.Gate;

    internal ThreadObject Thread { get; } = thread;

    internal ulong Label { get; } = label;

    internal List<LinkObject> Links { get; } = [];
}
