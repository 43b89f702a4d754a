using Microsoft.CodeAnalysis;

namespace L4Rt.Contracts.Generator;

/// <summary>The diagnostics of the contract generator (documented in docs/contracts.md).</summary>
public static class ContractDiagnostics
{
    private const string Category = "L4Rt.Contracts";

    /// <summary>L4RT001: a parameter's type cannot travel in message registers.</summary>
    public static readonly DiagnosticDescriptor ParameterNotMarshallable = new(
        "L4RT001", "Parameter cannot be marshalled",
        "Parameter '{0}' of operation '{1}' has type '{2}', which cannot be marshalled: use an unmanaged type (of known size, no pointers), string, ReadOnlySpan<byte>, a capability (Gate, Irq, Dataspace, …) or a Flexpage",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>L4RT002: a result's type cannot travel in a reply.</summary>
    public static readonly DiagnosticDescriptor ResultNotMarshallable = new(
        "L4RT002", "Result cannot be marshalled",
        "Operation '{0}' returns '{1}', which cannot be marshalled: return void, an unmanaged type (of known size, no pointers), string, ReadOnlySpan<byte>, a capability type (not nullable: the reply always carries it) or Flexpage (async results come from the generated client's …Async methods)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>L4RT003: a request or reply needs more than the 63 message registers of a UTCB.</summary>
    public static readonly DiagnosticDescriptor MessageTooLarge = new(
        "L4RT003", "Message exceeds the message registers",
        "The {0} of operation '{1}' needs {2} message registers (its words, one length word per string or span, two per capability) before any string or span content; a UTCB has 63",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>L4RT004: two operations of one contract have the same opcode.</summary>
    public static readonly DiagnosticDescriptor DuplicateOpcode = new(
        "L4RT004", "Duplicate opcode",
        "Operations '{0}' and '{1}' of contract '{2}' both have opcode {3}: each operation needs its own",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>L4RT005: an opcode outside 1..255.</summary>
    public static readonly DiagnosticDescriptor OpcodeOutOfRange = new(
        "L4RT005", "Opcode out of range",
        "Operation '{0}' has opcode {1}; opcodes are 1..255 (they travel in 8 bits of the message tag's protocol)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>L4RT006: a contract id or version outside its range.</summary>
    public static readonly DiagnosticDescriptor ContractIdOutOfRange = new(
        "L4RT006", "Contract id or version out of range",
        "Contract '{0}' has id {1} and version {2}; ids are 1..32767 and versions 0..255 (they travel in the message tag's protocol)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>L4RT007: a ref, out, in or params parameter.</summary>
    public static readonly DiagnosticDescriptor ParameterModifier = new(
        "L4RT007", "Parameter passing not supported",
        "Parameter '{0}' of operation '{1}' is passed by reference (ref, out, in or ref readonly): an operation's arguments are copied into message registers, so pass them by value and return the result",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>L4RT008: a contract member that is not an operation.</summary>
    public static readonly DiagnosticDescriptor UnsupportedMember = new(
        "L4RT008", "Member is not an operation",
        "Member '{0}' of contract '{1}' cannot be an operation: a contract declares non-generic instance methods only (no properties, events, static or default-implemented members)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>L4RT009: a one-way operation with a result.</summary>
    public static readonly DiagnosticDescriptor OneWayWithResult = new(
        "L4RT009", "One-way operation has a result",
        "One-way operation '{0}' returns '{1}': a one-way send gets no reply, so it must return void",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>L4RT010: an operation names a state the contract does not declare.</summary>
    public static readonly DiagnosticDescriptor UnknownState = new(
        "L4RT010", "Unknown state",
        "Operation '{0}' names state '{1}', which contract '{2}' does not declare with [L4RtState(\"{1}\")]",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>L4RT011: a channel contract without exactly one initial state.</summary>
    public static readonly DiagnosticDescriptor InitialState = new(
        "L4RT011", "Initial state",
        "Contract '{0}' declares states but {1} of them are initial: exactly one must be [L4RtState(\"…\", Initial = true)]",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>L4RT012: a generic or nested contract interface.</summary>
    public static readonly DiagnosticDescriptor UnsupportedContract = new(
        "L4RT012", "Contract interface not supported",
        "Contract '{0}' is generic or nested in a type: declare it as a non-generic interface directly in a namespace",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>L4RT013: a state declared twice or with a name that is not an identifier.</summary>
    public static readonly DiagnosticDescriptor BadState = new(
        "L4RT013", "Bad state name",
        "Contract '{0}' declares state '{1}' more than once or under a name that is not a C# identifier",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    internal static DiagnosticDescriptor ById(string id) => id switch
    {
        "L4RT001" => ParameterNotMarshallable,
        "L4RT002" => ResultNotMarshallable,
        "L4RT003" => MessageTooLarge,
        "L4RT004" => DuplicateOpcode,
        "L4RT005" => OpcodeOutOfRange,
        "L4RT006" => ContractIdOutOfRange,
        "L4RT007" => ParameterModifier,
        "L4RT008" => UnsupportedMember,
        "L4RT009" => OneWayWithResult,
        "L4RT010" => UnknownState,
        "L4RT011" => InitialState,
        "L4RT012" => UnsupportedContract,
        _ => BadState,
    };
}
