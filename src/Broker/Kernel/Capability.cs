using L4Rt.Protocol;

namespace L4Rt.Broker.Kernel;

/// <summary>
/// A capability: an object, rights, and where it sits — a slot of a task's space, or a name-service entry
/// (no owner). <see cref="Parent"/>/<see cref="Children"/> record map derivations, so deleting a capability
/// revokes everything mapped from it.
/// </summary>
internal sealed class Capability(KernelObject target, CapRights rights, TaskObject? owner, Capability? parent)
{
    internal KernelObject Object { get; } = target;

    internal CapRights Rights { get; } = rights;

    internal TaskObject? Owner { get; } = owner;

    internal int Slot { get; set; } = -1;

    internal Capability? Parent { get; set; } = parent;

    internal List<Capability> Children { get; } = [];

    /// <summary>Set when this capability is held by the name service for an entry.</summary>
    internal NameEntry? Entry { get; set; }

    /// <summary>
    /// For a flexpage mapping (a memory item received; it sits in no slot): the range of the dataspace it maps. The
    /// mapping is a node of the derivation tree like any capability, so revoking above it unmaps it.
    /// </summary>
    internal long MappedOffset { get; init; }

    /// <summary>The size of a flexpage mapping's range (0 for a capability in a slot).</summary>
    internal long MappedSize { get; init; }

    internal bool Has(CapRights rights) => (Rights & rights) == rights;
}
