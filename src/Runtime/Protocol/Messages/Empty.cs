using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>A reply (or notification) with no fields.</summary>
internal readonly record struct Empty : IControlMessage<Empty>
{
    public void Write(Payload payload)
    {
    }

    public static Empty Read(ref FrameReader reader, List<SafeFdHandle> fds)
    {
        reader.End();
        Descriptors.Expect(fds, 0);
        return default;
    }
}
