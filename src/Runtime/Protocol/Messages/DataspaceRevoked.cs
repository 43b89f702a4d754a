using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// <see cref="Opcode.DataspaceRevoked"/>: a capability this task mapped a dataspace through was revoked (deleted,
/// unmapped from above, or the dataspace destroyed); the runtime takes the memory out of its mappings. The reason is
/// <see cref="L4Status.InvalidCapability"/> for a revocation, <see cref="L4Status.DestinationDeleted"/> when the
/// dataspace went with its creator's death (a peer's death reads as one, as on every other path).
/// </summary>
internal static class DataspaceRevoked
{
    /// <summary>The token the attach of that capability gave (its slot may be reused by now; the token never is).</summary>
    internal readonly record struct Notification(long Token, L4Status Reason) : IControlMessage<Notification>
    {
        public void Write(Payload payload) => payload.Int64(Token).Int32((int)Reason);

        public static Notification Read(ref FrameReader reader, List<SafeFdHandle> fds)
        {
            long token = reader.ReadInt64();
            L4Status reason = (L4Status)reader.ReadInt32() is L4Status.DestinationDeleted ? L4Status.DestinationDeleted : L4Status.InvalidCapability;
            Notification message = new(token, reason);
            reader.End();
            Descriptors.Expect(fds, 0);
            return message;
        }
    }
}
