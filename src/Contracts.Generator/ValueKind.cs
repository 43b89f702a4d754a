namespace L4Rt.Contracts.Generator;

/// <summary>How a parameter or result travels.</summary>
internal enum ValueKind
{
    Void,
    Unmanaged,
    Bool,
    String,
    Bytes,
    Capability,
    Flexpage,
}
