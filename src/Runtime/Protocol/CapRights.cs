namespace L4Rt.Protocol;

/// <summary>Rights a capability carries. Mapping may only keep or drop rights, never add them.</summary>
[Flags]
public enum CapRights : uint
{
    /// <summary>No right.</summary>
    None = 0,

    /// <summary>Send through a gate, trigger an IRQ, query the name service.</summary>
    Send = 0x1,

    /// <summary>Map the capability further (into another task, or into the name service).</summary>
    Map = 0x2,

    /// <summary>Grant (move) the capability.</summary>
    Grant = 0x4,

    /// <summary>Create through a factory, register in the name service, write a dataspace.</summary>
    Write = 0x8,

    /// <summary>Delete the object itself (the creator's original capability).</summary>
    Delete = 0x10,

    /// <summary>Read a dataspace (map it read-only).</summary>
    Read = 0x20,

    /// <summary>Every right.</summary>
    All = Send | Map | Grant | Write | Delete | Read,
}
