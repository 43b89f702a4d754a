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

    /// <summary>
    /// The sender lets its memory items be copied where they cannot be mapped: through a gate bridge to another host,
    /// whose window accepts flexpages only with this flag (<see cref="Objects.ReceiveWindow.RequiresCopyOptIn"/>). The
    /// receiver then works on a copy; pages lent read-write are copied back when the call's reply returns. Without it
    /// such a message fails with <see cref="L4Status.NoReceiveBuffer"/>.
    /// </summary>
    CopyMemory = 0x4,
}
