using L4Rt.Memory;
using L4Rt.Protocol;

namespace L4Rt.Broker.Kernel;

/// <summary>
/// A zero-copy FIFO channel: the ring region (kept mapped here so a dead end can be marked), and which task
/// holds each end. One producer and one consumer at a time; a task's death marks its end dead.
/// </summary>
internal sealed class ChannelObject(long id, TaskObject creator, ChannelRegion region) : KernelObject(id, creator)
{
    internal override CapKind Kind => CapKind.Channel;

    internal ChannelRegion Region { get; } = region;

    internal TaskObject? Producer { get; set; }

    internal TaskObject? Consumer { get; set; }
}
