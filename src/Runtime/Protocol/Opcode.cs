namespace L4Rt.Protocol;

/// <summary>
/// Control-plane operations. A request names the capability it invokes (payload's first field, a
/// task-local slot) except <see cref="Hello"/> and <see cref="Status"/>; the broker checks the slot's
/// object kind and rights before anything else.
/// </summary>
internal enum Opcode : ushort
{
    /// <summary>Handshake. Payload: u32 protocol version, string client name. Reply: i32 task id, i32 task slot, i32 factory slot, i32 namespace slot, i32 broker pid.</summary>
    Hello = 1,

    /// <summary>Factory: create a thread. Payload: cap. Fd: its doorbell region. Reply: i32 slot, i32 thread id.</summary>
    CreateThread = 10,

    /// <summary>Factory: create a gate bound to a thread. Payload: cap, i32 thread slot, u64 label. Reply: i32 slot.</summary>
    CreateGate = 11,

    /// <summary>Factory: create an IRQ bound to a thread. Payload: cap, i32 thread slot, u64 label. Reply: i32 slot.</summary>
    CreateIrq = 12,

    /// <summary>Factory: create a child factory with a sub-quota. Payload: cap, i64 bytes, i32 objects. Reply: i32 slot.</summary>
    CreateFactory = 13,

    /// <summary>Factory: quota and use. Payload: cap. Reply: i64 quota bytes, i64 used bytes, i32 quota objects, i32 used objects, i32 quota fds, i32 used fds (the task's, kept by its root factory).</summary>
    FactoryUsage = 14,

    /// <summary>Factory: create a FIFO channel (its ring charged to the byte quota). Payload: cap, i64 capacity. Reply: i32 slot.</summary>
    CreateChannel = 15,

    /// <summary>Gate: set up the link for a sending thread. Payload: cap, i32 sender thread slot. Reply: fds link, doorbell.</summary>
    GateLink = 20,

    /// <summary>Close a link this task opened as a sender (its thread is gone). Payload: i64 link id (from the GateLink reply).</summary>
    LinkClose = 24,

    /// <summary>IRQ: map its trigger region for direct triggering. Payload: cap. Reply: fds irq region, doorbell.</summary>
    IrqAttach = 21,

    /// <summary>IRQ: trigger through the broker. Payload: cap.</summary>
    IrqTrigger = 22,

    /// <summary>Channel: take one end. Payload: cap, u8 role (1 producer: needs Write; 0 consumer: needs Send). Reply: i64 capacity. Fd: the ring.</summary>
    ChannelAttach = 23,

    /// <summary>Map a capability into another task. Payload: cap, i32 target task slot, u32 rights. Reply: i32 slot in the target.</summary>
    Map = 30,

    /// <summary>Delete a capability (and what was derived from it; with the delete right, the object). Payload: cap.</summary>
    Delete = 31,

    /// <summary>Describe a capability. Payload: cap. Reply: u8 kind, u32 rights.</summary>
    CapInfo = 32,

    /// <summary>Name service: register (charged one object). Payload: cap, i32 slot, u32 rights, string name.</summary>
    NameRegister = 40,

    /// <summary>Name service: query, waiting up to a timeout. Payload: cap, i32 timeout ms (-1: forever), string name. Reply: i32 slot, u8 kind, u32 rights.</summary>
    NameQuery = 41,

    /// <summary>Name service: unregister. Payload: cap, string name.</summary>
    NameUnregister = 42,

    /// <summary>Name service: list one page. Payload: cap, string after (empty: from the start). Reply: see <see cref="Messages.NameListPage"/>.</summary>
    NameList = 43,

    /// <summary>Broker status for operators, one chunk of a JSON snapshot. Payload and reply: see <see cref="Messages.StatusPage"/>.</summary>
    Status = 50,

    /// <summary>Notification to a receiving task: a link was bound to one of its threads. Payload: i32 thread id, i32 index, u64 label. Fd: link region. Acked with a response.</summary>
    NewLink = 100,

    /// <summary>Notification: a link or IRQ of a thread is gone. Payload: i32 thread id, i32 index.</summary>
    EndpointClosed = 101,

    /// <summary>Notification to a receiving task: an IRQ was bound to one of its threads. Payload: i32 thread id, i32 index, u64 label. Fd: irq region. Acked.</summary>
    NewIrq = 102,

    /// <summary>Notification: the broker is shutting down.</summary>
    Shutdown = 110,
}
