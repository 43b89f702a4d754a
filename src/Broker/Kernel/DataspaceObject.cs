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

    /// <summary>
    /// For a paged dataspace: the gate capability its creator named as the pager (the send-only pager capabilities handed
    /// to the tasks that map it are derived from it, so revoking it reaches them); null for an ordinary dataspace.
    /// </summary>
    internal Capability? Pager { get; init; }

    /// <summary>The id the pager knows this dataspace by (sent in every fault).</summary>
    internal ulong PagerId { get; init; }

    /// <summary>How long a fault on this dataspace waits for the pager.</summary>
    internal int FaultTimeoutMs { get; init; }

    /// <summary>The pager capability handed to each task that mapped this dataspace (one per task, reused by its later mappings).</summary>
    internal Dictionary<TaskObject, Capability> PagerCaps { get; } = [];

    /// <summary>Mappings made as a pager's backing (status).</summary>
    internal int BackingAttaches { get; set; }
}
