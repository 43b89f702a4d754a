using L4Rt.Contracts;
using L4Rt.Objects;

namespace L4Rt.Samples.Echo;

/// <summary>
/// The Echo contract: the source generator makes <c>EchoClient</c> (the proxy the client calls), <c>EchoDispatcher</c>
/// and <c>EchoHandler&lt;T&gt;</c> + <c>AddEchoServer&lt;T&gt;</c> (the server side) from it.
/// </summary>
[L4RtContract(Id = 1, Version = 1)]
public interface IEcho
{
    /// <summary>Returns <paramref name="message"/> with its first word incremented and the other words as they came.</summary>
    [L4RtOperation(1)]
    EchoWords Increment(EchoWords message);

    /// <summary>
    /// The rights the server holds on <paramref name="gate"/>, which travels as a capability item: the broker maps it into
    /// the server's space for the call, with the rights the sender has (at most).
    /// </summary>
    [L4RtOperation(2)]
    ulong RightsOf(Gate gate);
}
