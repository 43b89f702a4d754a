using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.DataspaceRevoked"/>: a capability this task mapped a dataspace through was revoked (deleted,
/// unmapped from above, or the dataspace destroyed); the runtime takes the memory out of its mappings.
/// </summary>
internal static class DataspaceRevoked
{
    /// <summary>The slot the capability had in this task.</summary>
    internal readonly record struct Notification(int Slot) : IControlMessage<Notification>
    {
        public void Write(Payload payload) => payload.Int32(Slot);

        public static Notification Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Notification message = new(reader.ReadInt32());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
