using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.EndpointClosed"/>: a link or IRQ of a thread is gone.</summary>
internal static class EndpointClosed
{
    /// <summary>The thread and the endpoint's index.</summary>
    internal readonly record struct Notification(int ThreadId, int Index) : IControlMessage<Notification>
    {
        public void Write(Payload payload) => payload.Int32(ThreadId).Int32(Index);

        public static Notification Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Notification message = new(reader.ReadInt32(), reader.ReadInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
