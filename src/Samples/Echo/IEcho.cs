using L4Rt.Contracts;

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
}
