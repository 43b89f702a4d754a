using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.Hello"/>: the handshake that makes a connection a task.</summary>
internal static class Hello
{
    /// <summary>The protocol version the client speaks and its name (for operators; cut to 64 bytes).</summary>
    internal readonly record struct Request(uint Version, string Name) : IControlMessage<Request>, IControlRequest<Reply>
    {
        public Opcode Opcode => Opcode.Hello;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.UInt32(Version).String(Name, ProtocolLimits.MaxTaskNameLength);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadUInt32(), reader.ReadString(ProtocolLimits.MaxTaskNameLength, "the task name"));
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }

    /// <summary>The new task: its id, the slots of its own task, factory and namespace capabilities, and the broker's pid.</summary>
    internal readonly record struct Reply(int TaskId, int TaskSlot, int FactorySlot, int NamespaceSlot, int BrokerPid) : IControlMessage<Reply>
    {
        public void Write(Payload payload) => payload.Int32(TaskId).Int32(TaskSlot).Int32(FactorySlot).Int32(NamespaceSlot).Int32(BrokerPid);

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Reply message = new(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
