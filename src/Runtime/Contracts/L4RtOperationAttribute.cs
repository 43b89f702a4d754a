namespace L4Rt.Contracts;

/// <summary>
/// An operation of an <see cref="L4RtContractAttribute">L4Rt contract</see> with its opcode
/// (1..<see cref="ContractProtocol.MaxOpcode"/>). A method without it gets its position in the interface (1-based) as opcode.
/// For a channel contract (<see cref="L4RtStateAttribute"/>), <see cref="AllowedIn"/> and <see cref="Next"/> say in which
/// states the operation may come and which state follows it.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class L4RtOperationAttribute : Attribute
{
    /// <summary>An operation with <paramref name="opcode"/>.</summary>
    public L4RtOperationAttribute(int opcode) => Opcode = opcode;

    /// <summary>The opcode (it travels in the protocol field of the message tag).</summary>
    public int Opcode { get; }

    /// <summary>The states (comma-separated names of <see cref="L4RtStateAttribute"/>s) in which this operation is allowed; null: in every state.</summary>
    public string? AllowedIn { get; set; }

    /// <summary>The state the channel is in after this operation succeeded; null: it stays in its state.</summary>
    public string? Next { get; set; }
}
