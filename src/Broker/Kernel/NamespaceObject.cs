using L4Rt.Protocol;

namespace L4Rt.Broker.Kernel;

/// <summary>The name service: name → capability. Entries die with their registrant's capability.</summary>
internal sealed class NamespaceObject(long id) : KernelObject(id, null)
{
    internal override CapKind Kind => CapKind.Namespace;

    /// <summary>Kept in ordinal order: name lists are paged by "after this name".</summary>
    internal SortedDictionary<string, NameEntry> Entries { get; } = new(StringComparer.Ordinal);
}
