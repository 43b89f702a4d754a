using System.Runtime.InteropServices;

namespace L4Rt.Protocol.Messages;

/// <summary>A request: the opcode it travels under and the type of its reply.</summary>
internal interface IControlRequest<TReply>
    where TReply : IControlMessage<TReply>
{
    Opcode Opcode { get; }

    SafeHandle[] Fds { get; }

    void Write(Payload payload);
}
