using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.CreateDataspace"/>: a factory creates a dataspace (shared memory), charged to its byte quota.</summary>
internal static class CreateDataspace
{
    /// <summary>The factory and the size in bytes (a whole number of pages).</summary>
    internal readonly record struct Request(int Factory, long Size) : IControlMessage<Request>, IControlRequest<SlotReply>
    {
        public Opcode Opcode => Opcode.CreateDataspace;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Factory).Int64(Size);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32(), reader.ReadInt64());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
