using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>A reply naming the slot of a capability the request installed in the caller's space.</summary>
internal readonly record struct SlotReply(int Slot) : IControlMessage<SlotReply>
{
    public void Write(Payload payload) => payload.Int32(Slot);

    public static SlotReply Read(ref FrameReader reader, List<SafeFdHandle> fds)
    {
        SlotReply message = new(reader.ReadInt32());
        reader.End();
        Descriptors.Expect(fds, 0);
        return message;
    }
}
