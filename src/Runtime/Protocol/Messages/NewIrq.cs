using System.Runtime.InteropServices;
using L4Rt.Interop;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Protocol.Messages;

/// <summary><see cref="Opcode.NewIrq"/>: the broker tells a receiving task an IRQ was bound to one of its threads (acknowledged).</summary>
internal static class NewIrq
{
    /// <summary>The thread, the IRQ's index in its doorbell, its label, and the IRQ region.</summary>
    internal readonly record struct Notification(int ThreadId, int Index, ulong Label, SafeFileHandle Region) : IControlMessage<Notification>
    {
        public SafeHandle[] Fds => [Region];

        public void Write(Payload payload) => payload.Int32(ThreadId).Int32(Index).UInt64(Label);

        public static Notification Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Notification message = new(reader.ReadInt32(), reader.ReadInt32(), reader.ReadUInt64(), null!);
            reader.End();
            SafeFileHandle[] taken = Descriptors.TakeAll(fds, 1);
            return message with { Region = taken[0] };
        }
    }
}
