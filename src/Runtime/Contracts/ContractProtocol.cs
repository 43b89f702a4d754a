using System.Diagnostics.CodeAnalysis;
using L4Rt.Ipc;

namespace L4Rt.Contracts;

/// <summary>
/// How a contract's identity travels: every request of an operation carries
/// <c>contract id &lt;&lt; 16 | version &lt;&lt; 8 | opcode</c> in <see cref="MsgTag.Protocol"/> (always ≥ 0, a user protocol),
/// and a successful reply carries the request's protocol back. A server that cannot serve a request answers with
/// <see cref="SystemProtocol.ContractError"/> instead (see <see cref="Refuse"/>), so a client of another contract or version
/// learns it as <see cref="L4Status.ProtocolMismatch"/> with both sides' versions, never as garbage results.
/// </summary>
/// <remarks>
/// Protocol bits: 0–7 opcode (1..255), 8–15 version (0..255), 16–30 contract id (1..32767), 31 clear.
/// A refusal: MR0 the status, MR1 the protocol the server speaks for it, MR2 the protocol the request had.
/// </remarks>
public static class ContractProtocol
{
    /// <summary>The largest contract id.</summary>
    public const int MaxContractId = 0x7FFF;

    /// <summary>The largest contract version.</summary>
    public const int MaxVersion = 0xFF;

    /// <summary>The largest opcode (opcodes start at 1).</summary>
    public const int MaxOpcode = 0xFF;

    /// <summary>Words of a refusal (<see cref="SystemProtocol.ContractError"/>).</summary>
    public const int RefusalWords = 3;

    /// <summary>The protocol of operation <paramref name="opcode"/> of contract <paramref name="contractId"/> version <paramref name="version"/>.</summary>
    public static int Encode(int contractId, int version, int opcode)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contractId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(contractId, MaxContractId);
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(version, MaxVersion);
        ArgumentOutOfRangeException.ThrowIfLessThan(opcode, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(opcode, MaxOpcode);
        return (contractId << 16) | (version << 8) | opcode;
    }

    /// <summary>The contract id of a contract protocol (0 for a system protocol).</summary>
    public static int ContractIdOf(int protocol) => protocol < 0 ? 0 : protocol >> 16;

    /// <summary>The version of a contract protocol.</summary>
    public static int VersionOf(int protocol) => protocol < 0 ? 0 : (protocol >> 8) & 0xFF;

    /// <summary>The opcode of a contract protocol.</summary>
    public static int OpcodeOf(int protocol) => protocol < 0 ? 0 : protocol & 0xFF;

    /// <summary>A protocol in words: "contract 7 version 1 operation 2", or the system protocol's number.</summary>
    public static string Describe(int protocol) => protocol < 0
        ? $"system protocol {protocol}"
        : $"contract {ContractIdOf(protocol)} version {VersionOf(protocol)} operation {OpcodeOf(protocol)}";

    /// <summary>
    /// Server side: whether a request's protocol belongs to contract <paramref name="contractId"/> version
    /// <paramref name="version"/> (<see cref="L4Status.Ok"/>), or not (<see cref="L4Status.ProtocolMismatch"/>).
    /// </summary>
    public static L4Status CheckRequest(int protocol, int contractId, int version) =>
        protocol >= 0 && ContractIdOf(protocol) == contractId && VersionOf(protocol) == version ? L4Status.Ok : L4Status.ProtocolMismatch;

    /// <summary>
    /// Server side: writes a refusal of a request of protocol <paramref name="actual"/> to <paramref name="mr"/> and
    /// returns its tag. <paramref name="expected"/> is what the server speaks (for a mismatch: its contract and version, opcode 0).
    /// </summary>
    public static MsgTag Refuse(Span<ulong> mr, L4Status status, int expected, int actual)
    {
        mr[0] = (ulong)status;
        mr[1] = (ulong)(uint)expected;
        mr[2] = (ulong)(uint)actual;
        return new MsgTag(SystemProtocol.ContractError, RefusalWords);
    }

    /// <summary>
    /// Client side: the status of a reply to a request of <paramref name="requestProtocol"/>: the IPC status when the
    /// call failed; <see cref="L4Status.Ok"/> for a reply of the request's protocol with at least <paramref name="minWords"/>
    /// words; the server's refusal (<see cref="L4Status.ProtocolMismatch"/>, <see cref="L4Status.OutOfState"/>, …);
    /// <see cref="L4Status.ServerFault"/> when the server's handler threw; <see cref="L4Status.ProtocolViolation"/> for
    /// anything else (a reply the contract does not allow).
    /// </summary>
    public static L4Status CheckReply(in IpcResult reply, int requestProtocol, int minWords, ReadOnlySpan<ulong> mr) =>
        CheckReply(in reply, requestProtocol, minWords, 0, mr);

    /// <summary>
    /// As <see cref="CheckReply(in IpcResult, int, int, ReadOnlySpan{ulong})"/> for an operation whose successful reply carries
    /// exactly <paramref name="items"/> typed items (a capability or flexpage result).
    /// </summary>
    public static L4Status CheckReply(in IpcResult reply, int requestProtocol, int minWords, int items, ReadOnlySpan<ulong> mr)
    {
        if (!reply.IsOk)
        {
            return reply.Status;
        }

        MsgTag tag = reply.Tag;
        if (tag.Protocol == requestProtocol)
        {
            return tag.Words >= minWords && tag.Items == items ? L4Status.Ok : L4Status.ProtocolViolation;
        }

        if (tag.Protocol == SystemProtocol.ContractError && tag.Words >= RefusalWords)
        {
            ulong status = mr[0];
            return status is (ulong)L4Status.ProtocolMismatch or (ulong)L4Status.OutOfState or (ulong)L4Status.ProtocolViolation or (ulong)L4Status.InvalidCapability
                ? (L4Status)status
                : L4Status.ProtocolViolation;
        }

        return tag.Protocol == SystemProtocol.Exception ? L4Status.ServerFault : L4Status.ProtocolMismatch;
    }

    /// <summary>
    /// Client side: the exception for a failed operation <paramref name="operation"/> whose request had
    /// <paramref name="requestProtocol"/>; when the server refused it, the message names what the server speaks
    /// (read from <paramref name="mr"/>, which still holds the refusal when <paramref name="reply"/> is one).
    /// </summary>
    public static L4RtException Failure(L4Status status, string operation, int requestProtocol, MsgTag reply, ReadOnlySpan<ulong> mr)
    {
        string ours = Describe(requestProtocol);
        bool refused = reply.Protocol == SystemProtocol.ContractError && reply.Words >= RefusalWords;
        int theirs = refused ? (int)(uint)mr[1] : reply.Protocol;
        string message = status switch
        {
            L4Status.ProtocolMismatch when refused =>
                $"{operation}: the server speaks contract {ContractIdOf(theirs)} version {VersionOf(theirs)}; this client sent {ours}",
            L4Status.ProtocolMismatch => $"{operation}: the server answered with {Describe(reply.Protocol)} to a request of {ours}: it does not speak this contract",
            L4Status.OutOfState => $"{operation}: the server refused {ours}: the channel's current state does not allow it",
            L4Status.ServerFault => $"{operation}: the server's handler failed on {ours}",
            L4Status.InvalidCapability => $"{operation}: the server refused {ours}: a capability argument is missing or of the wrong kind",
            L4Status.ProtocolViolation when refused => $"{operation}: the server refused {ours} as malformed",
            L4Status.ProtocolViolation => $"{operation}: the reply to {ours} does not fit the contract ({reply})",
            L4Status.InvalidArgument => $"{operation}: the arguments do not fit in {MsgTag.MaxWords} message registers",
            _ => $"{operation}: {status}",
        };
        return new L4RtException(status, message);
    }

    /// <summary>Throws <see cref="Failure"/> (out of line, so the generated methods stay small).</summary>
    [DoesNotReturn]
    public static void ThrowFailure(L4Status status, string operation, int requestProtocol, MsgTag reply, ReadOnlySpan<ulong> mr) =>
        throw Failure(status, operation, requestProtocol, reply, mr);
}
