namespace L4Rt.Ipc;

/// <summary>The pre-defined (negative) protocols of <see cref="MsgTag.Protocol"/>, as in L4Re.</summary>
public static class SystemProtocol
{
    /// <summary>An IRQ object delivered a (coalesced) notification.</summary>
    public const int Irq = -1;

    /// <summary>A page-fault-like request for memory (flexpage resolution).</summary>
    public const int PageFault = -2;

    /// <summary>An exception report.</summary>
    public const int Exception = -5;

    /// <summary>A request to the broker itself.</summary>
    public const int Broker = -16;

    /// <summary>
    /// A contract server refused a request (see <c>L4Rt.Contracts.ContractProtocol</c>): MR0 the <see cref="L4Status"/>,
    /// MR1 the protocol the server speaks for this request, MR2 the protocol the request came with.
    /// </summary>
    public const int ContractError = -20;
}
