using System.Runtime.InteropServices;
using L4Rt.Protocol;
using L4Rt.Protocol.Messages;

namespace L4Rt.Broker.Kernel;

/// <summary>What a request handler answers: a status with a payload and descriptors, or "later" (the reply is sent when an ack or a name arrives).</summary>
internal readonly record struct Reply(L4Status Status, Payload? Payload = null, SafeHandle[]? Fds = null, bool Deferred = false)
{
    internal static Reply Ok(Payload? payload = null, params SafeHandle[] fds) => new(L4Status.Ok, payload, fds.Length == 0 ? null : fds);

    internal static Reply Later => new(L4Status.Ok, Deferred: true);

    /// <summary>An Ok reply carrying <paramref name="message"/> (its fields and descriptors).</summary>
    internal static Reply Of<T>(T message)
        where T : IControlMessage<T>
    {
        Payload payload = new();
        message.Write(payload);
        SafeHandle[] fds = message.Fds;
        return new(L4Status.Ok, payload, fds.Length == 0 ? null : fds);
    }

    /// <summary>An error with its reason; a reason longer than <see cref="ProtocolLimits.MaxErrorMessageLength"/> bytes (it may quote client input) is cut.</summary>
    internal static Reply Error(L4Status status, string message) => new(status, new Payload().String(message, ProtocolLimits.MaxErrorMessageLength));
}
