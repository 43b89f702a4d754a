namespace L4Rt.Ipc;

/// <summary>Special-purpose flags of a <see cref="MsgTag"/>.</summary>
[Flags]
public enum MsgTagFlags : ushort
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>The message reports an error (set by the runtime on system-protocol replies).</summary>
    Error = 0x1,

    /// <summary>The sender asks that the items be transferred as a grant (move) rather than a map (copy).</summary>
    Grant = 0x2,
}
