namespace L4Rt.Protocol;

/// <summary>
/// Control-plane operations. Each one's fields are defined once, by its message type in
/// <see cref="Messages"/> (used by the SDK and the broker alike). A request names the capability it
/// invokes (its first field, a task-local slot) except <see cref="Hello"/>, <see cref="LinkClose"/> and
/// <see cref="Status"/>; the broker checks the slot's object kind and rights before anything else.
/// </summary>
internal enum Opcode : ushort
{
    /// <summary>Handshake: a connection becomes a task. Fields: <see cref="Messages.Hello"/>.</summary>
    Hello = 1,

    /// <summary>Factory: create a receiving thread (the client passes its doorbell). Fields: <see cref="Messages.CreateThread"/>.</summary>
    CreateThread = 10,

    /// <summary>Factory: create a gate bound to a thread. Fields: <see cref="Messages.CreateGate"/>.</summary>
    CreateGate = 11,

    /// <summary>Factory: create an IRQ bound to a thread. Fields: <see cref="Messages.CreateIrq"/>.</summary>
    CreateIrq = 12,

    /// <summary>Factory: create a child factory with a sub-quota. Fields: <see cref="Messages.CreateFactory"/>.</summary>
    CreateFactory = 13,

    /// <summary>Factory: quota and use. Fields: <see cref="Messages.FactoryUsage"/>.</summary>
    FactoryUsage = 14,

    /// <summary>Factory: create a FIFO channel (its ring charged to the byte quota). Fields: <see cref="Messages.CreateChannel"/>.</summary>
    CreateChannel = 15,

    /// <summary>Factory: create a dataspace (its size charged to the byte quota). Fields: <see cref="Messages.CreateDataspace"/>.</summary>
    CreateDataspace = 16,

    /// <summary>Factory: create a dataspace whose pages a pager supplies on first touch (its size charged to the byte quota). Fields: <see cref="Messages.CreatePagedDataspace"/>.</summary>
    CreatePagedDataspace = 17,

    /// <summary>Gate: set up the link for a sending thread. Fields: <see cref="Messages.GateLink"/>.</summary>
    GateLink = 20,

    /// <summary>Close a link this task opened as a sender (its thread is gone). Fields: <see cref="Messages.LinkClose"/>.</summary>
    LinkClose = 24,

    /// <summary>IRQ: map its trigger region for direct triggering. Fields: <see cref="Messages.IrqAttach"/>.</summary>
    IrqAttach = 21,

    /// <summary>IRQ: trigger through the broker. Fields: <see cref="Messages.IrqTrigger"/>.</summary>
    IrqTrigger = 22,

    /// <summary>Channel: take one end. Fields: <see cref="Messages.ChannelAttach"/>.</summary>
    ChannelAttach = 23,

    /// <summary>Dataspace: its memory to map, read-write or read-only by rights, or as a pager's backing. Fields: <see cref="Messages.DataspaceAttach"/>.</summary>
    DataspaceAttach = 25,

    /// <summary>The items of a message the sender is about to post, checked and kept for the receiver. Fields: <see cref="Messages.ItemOffer"/>.</summary>
    ItemOffer = 26,

    /// <summary>The receiver accepts a message's items into its buffer registers (or the broker refuses them). Fields: <see cref="Messages.ItemAccept"/>.</summary>
    ItemAccept = 27,

    /// <summary>The sender gives up on a message with items; withdrawn unless already accepted. Fields: <see cref="Messages.ItemWithdraw"/>.</summary>
    ItemWithdraw = 28,

    /// <summary>A received flexpage was unmapped by its holder. Fields: <see cref="Messages.MappingRelease"/>.</summary>
    MappingRelease = 29,

    /// <summary>Map a capability into another task. Fields: <see cref="Messages.Map"/>.</summary>
    Map = 30,

    /// <summary>Delete a capability (and what was derived from it; with the delete right, the object). Fields: <see cref="Messages.Delete"/>.</summary>
    Delete = 31,

    /// <summary>Describe a capability. Fields: <see cref="Messages.CapInfo"/>.</summary>
    CapInfo = 32,

    /// <summary>The items of a reply the server is about to post, checked and kept for the caller. Fields: <see cref="Messages.ReplyItemOffer"/>.</summary>
    ReplyItemOffer = 33,

    /// <summary>The caller accepts a reply's items into its buffer registers (or the broker refuses them). Fields: <see cref="Messages.ReplyItemAccept"/>.</summary>
    ReplyItemAccept = 34,

    /// <summary>Name service: register (charged one object). Fields: <see cref="Messages.NameRegister"/>.</summary>
    NameRegister = 40,

    /// <summary>Name service: query, waiting up to a timeout. Fields: <see cref="Messages.NameQuery"/>.</summary>
    NameQuery = 41,

    /// <summary>Name service: unregister. Fields: <see cref="Messages.NameUnregister"/>.</summary>
    NameUnregister = 42,

    /// <summary>Name service: list one page. Fields: <see cref="Messages.NameList"/>.</summary>
    NameList = 43,

    /// <summary>Drop a deferred request of this task (a waiting name query) its caller stopped waiting for. Fields: <see cref="Messages.Cancel"/>.</summary>
    Cancel = 44,

    /// <summary>Set the short text operators see beside this task in the status (e.g. what a bridge exports). Fields: <see cref="Messages.TaskNote"/>.</summary>
    TaskNote = 45,

    /// <summary>Broker status for operators, one chunk of a JSON snapshot. Fields: <see cref="Messages.Status"/>.</summary>
    Status = 50,

    /// <summary>Notification to a receiving task: a link was bound to one of its threads. Acknowledged with a response. Fields: <see cref="Messages.NewLink"/>.</summary>
    NewLink = 100,

    /// <summary>Notification: a link or IRQ of a thread is gone. Fields: <see cref="Messages.EndpointClosed"/>.</summary>
    EndpointClosed = 101,

    /// <summary>Notification to a receiving task: an IRQ was bound to one of its threads. Acknowledged. Fields: <see cref="Messages.NewIrq"/>.</summary>
    NewIrq = 102,

    /// <summary>Notification: a capability a dataspace was mapped through was revoked. Fields: <see cref="Messages.DataspaceRevoked"/>.</summary>
    DataspaceRevoked = 103,

    /// <summary>Notification: the broker is shutting down.</summary>
    Shutdown = 110,
}
