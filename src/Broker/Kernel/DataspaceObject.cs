using L4Rt.Protocol;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Broker.Kernel;

/// <summary>
/// A dataspace: a size-sealed memfd of <see cref="Size"/> bytes. Writable holders get <see cref="ReadWrite"/>; read-only
/// holders get <see cref="ReadOnly"/>, a separate open of the same file made read-only, which cannot be reopened for
/// writing either (the file's mode is 0400, see <see cref="BrokerKernel"/>'s CreateDataspace).
/// </summary>
internal sealed class DataspaceObject(long id, TaskObject creator, SafeFileHandle readWrite, SafeFileHandle readOnly, long size) : KernelObject(id, creator)
{
    internal override CapKind Kind => CapKind.Dataspace;

    internal SafeFileHandle ReadWrite { get; } = readWrite;

    internal SafeFileHandle ReadOnly { get; } = readOnly;

    internal long Size { get; } = size;

    /// <summary>
    /// Capabilities a task attached (mapped) the memory through, with the token its runtime knows the mappings by
    /// (told back on revocation: a slot can be reused by then, a token never is).
    /// </summary>
    internal Dictionary<Capability, long> Attached { get; } = [];
}
