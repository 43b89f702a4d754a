using L4Rt.Broker.Kernel;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;

namespace L4Rt.Tests.Support;

/// <summary>A task's end of the kernel's port in a test: records what the kernel sends the task (responses and notifications).</summary>
internal sealed class RecordingPort(int pid) : ITaskPort
{
    public int Pid { get; } = pid;

    public uint Uid => 1000;

    public TaskObject? Task { get; set; }

    public List<(Opcode Opcode, uint Id, Reply Reply)> Responses { get; } = [];

    public List<(Opcode Opcode, uint Id, byte[] Payload, int Fds)> Notifications { get; } = [];

    public void Respond(Opcode opcode, uint requestId, Reply reply) => Responses.Add((opcode, requestId, reply));

    public bool Notify<T>(Opcode opcode, uint id, T message)
        where T : IControlMessage<T>
    {
        Payload payload = new();
        message.Write(payload);
        Notifications.Add((opcode, id, payload.Span.ToArray(), message.Fds.Length));
        return true;
    }
}
