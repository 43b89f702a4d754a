using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.FactoryUsage"/>: a factory's quota and use, and the task's descriptor budget.</summary>
internal static class FactoryUsage
{
    /// <summary>The factory.</summary>
    internal readonly record struct Request(int Factory) : IControlMessage<Request>, IControlRequest<Reply>
    {
        public Opcode Opcode => Opcode.FactoryUsage;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Factory);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }

    /// <summary>Quota and use of bytes and objects; the task's descriptor quota and use (kept by its root factory).</summary>
    internal readonly record struct Reply(long QuotaBytes, long UsedBytes, int QuotaObjects, int UsedObjects, int QuotaFds, int UsedFds) : IControlMessage<Reply>
    {
        public void Write(Payload payload) => payload.Int64(QuotaBytes).Int64(UsedBytes).Int32(QuotaObjects).Int32(UsedObjects).Int32(QuotaFds).Int32(UsedFds);

        public static Reply Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Reply message = new(reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
