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

    internal bool Has(CapRights rights) => (Rights & rights) == rights;
}
