namespace L4Rt.Contracts;

/// <summary>
/// Marks an interface as an L4Rt contract: the source generator (<c>L4Rt.Contracts.Generator</c>) makes a client proxy
/// and a server dispatcher for it. Each method is an operation (see <see cref="L4RtOperationAttribute"/>); its
/// parameters and result travel in message registers. <see cref="Id"/> and <see cref="Version"/> travel in every
/// message's <see cref="Ipc.MsgTag.Protocol"/> (see <see cref="ContractProtocol"/>), so a client of another contract or
/// version is refused with <see cref="L4Status.ProtocolMismatch"/>, never answered with garbage.
/// </summary>
[AttributeUsage(AttributeTargets.Interface, Inherited = false)]
public sealed class L4RtContractAttribute : Attribute
{
    /// <summary>The contract's id, 1..<see cref="ContractProtocol.MaxContractId"/>; unique among the contracts a server speaks.</summary>
    public int Id { get; set; }

    /// <summary>The contract's version, 0..<see cref="ContractProtocol.MaxVersion"/>: raise it when an operation's parameters or results change.</summary>
    public int Version { get; set; }

    /// <summary>
    /// For a contract with <see cref="Flexpage"/> parameters: the size of the receive window the generated hosting handler
    /// maps received flexpages into (default 16 MiB); a hand-written loop passes its own window to <c>PrepareReceive</c>.
    /// </summary>
    public long ReceiveWindowBytes { get; set; } = 16 << 20;
}
