using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.CreatePagedDataspace"/>: a factory creates a dataspace whose pages are supplied on first touch by a
/// pager, charged to its byte quota like any dataspace. The pager gate needs the send and map rights (every task that
/// maps the dataspace is given a send-only capability derived from it).
/// </summary>
internal static class CreatePagedDataspace
{
    /// <summary>
    /// The factory, the size in bytes (a whole number of pages), the pager's gate, the id the pager knows the dataspace
    /// by (sent in every fault), and how long a fault may wait for the pager (1 ms to <see cref="MaxFaultTimeoutMs"/>).
    /// </summary>
    internal readonly record struct Request(int Factory, long Size, int Pager, ulong PagerId, int FaultTimeoutMs) : IControlMessage<Request>, IControlRequest<SlotReply>
    {
        public Opcode Opcode => Opcode.CreatePagedDataspace;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.Int32(Factory).Int64(Size).Int32(Pager).UInt64(PagerId).Int32(FaultTimeoutMs);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt32(), reader.ReadUInt64(), reader.ReadInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }

    /// <summary>The longest fault timeout a paged dataspace may have (a minute).</summary>
    internal const int MaxFaultTimeoutMs = 60_000;
}
