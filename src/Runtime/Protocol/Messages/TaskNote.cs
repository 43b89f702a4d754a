using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.TaskNote"/>: a task sets the short text operators see beside it in the broker's status (what a gate
/// bridge exports to which peers, say). The broker keeps the last one per task, never interprets it, and forgets it with the task.
/// </summary>
internal static class TaskNote
{
    /// <summary>The most UTF-8 bytes one note holds.</summary>
    internal const int MaxBytes = 4096;

    /// <summary>The note (empty: none).</summary>
    internal readonly record struct Request(string Note) : IControlMessage<Request>, IControlRequest<Empty>
    {
        public Opcode Opcode => Opcode.TaskNote;

        public SafeHandle[] Fds => [];

        public void Write(Payload payload) => payload.String(Note, MaxBytes);

        public static Request Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Request message = new(reader.ReadString(MaxBytes, "a task note"));
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
