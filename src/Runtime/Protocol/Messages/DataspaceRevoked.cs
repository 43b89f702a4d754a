using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.DataspaceRevoked"/>: a capability this task mapped a dataspace through was revoked (deleted,
/// unmapped from above, or the dataspace destroyed); the runtime takes the memory out of its mappings.
/// </summary>
internal static class DataspaceRevoked
{
    /// <summary>The token the attach of that capability gave (its slot may be reused by now; the token never is).</summary>
    internal readonly record struct Notification(long Token) : IControlMessage<Notification>
    {
        public void Write(Payload payload) => payload.Int64(Token);

        public static Notification Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            Notification message = new(reader.ReadInt64());
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
