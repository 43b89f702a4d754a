namespace L4Rt.Protocol;

/// <summary>The kind of kernel object a capability names.</summary>
public enum CapKind : byte
{
    /// <summary>An empty slot.</summary>
    None = 0,

    /// <summary>A task (a connected process and its capability space).</summary>
    Task = 1,

    /// <summary>A receiving thread.</summary>
    Thread = 2,

    /// <summary>An IPC gate bound to a thread, with a label.</summary>
    Gate = 3,

    /// <summary>An IRQ object bound to a thread, with a label.</summary>
    Irq = 4,

    /// <summary>A factory with a quota.</summary>
    Factory = 5,

    /// <summary>The name service.</summary>
    Namespace = 6,

    /// <summary>A dataspace (shared memory).</summary>
    Dataspace = 7,

    /// <summary>A FIFO channel.</summary>
    Channel = 8,
}
