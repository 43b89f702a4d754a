using System.Runtime.InteropServices;
using L4Rt.Interop;

namespace L4Rt.Protocol.Messages;

/// <summary>
/// One control-plane message: its fields in wire order (<see cref="Write"/>) and back
/// (<see cref="Read"/>), the single definition both the SDK and the broker use. Reading checks every
/// length and count and consumes the whole payload; descriptors the message carries are taken out of the
/// received list (so the caller disposes only what nobody took).
/// </summary>
internal interface IControlMessage<TSelf>
    where TSelf : IControlMessage<TSelf>
{
    /// <summary>Descriptors that travel with the message (not owned by it when sending).</summary>
    SafeHandle[] Fds => [];

    void Write(Payload payload);

    static abstract TSelf Read(ref FrameReader reader, List<SafeFdHandle> fds);
}
