using L4Rt.Protocol;
using L4Rt.Protocol.Messages;

namespace L4Rt.Broker.Kernel;

/// <summary>
/// The kernel's only way out to a task: whoever carries its frames (the broker's session over the control
/// socket, or a test) implements it. The kernel keeps state and rules; it never builds a frame itself.
/// </summary>
internal interface ITaskPort
{
    /// <summary>The peer's pid and uid (from SO_PEERCRED).</summary>
    int Pid { get; }

    uint Uid { get; }

    /// <summary>The task this connection joined as (set by Hello, under the kernel's lock).</summary>
    TaskObject? Task { get; set; }

    /// <summary>Sends the response to request <paramref name="requestId"/> (a deferred one: an ack or a name arrived).</summary>
    void Respond(Opcode opcode, uint requestId, Reply reply);

    /// <summary>Sends a notification; false if the task cannot be reached (its queue is full or it is gone).</summary>
    bool Notify<T>(Opcode opcode, uint id, T message)
        where T : IControlMessage<T>;
}
