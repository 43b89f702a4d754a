using L4Rt.Protocol;
using L4Rt.Protocol.Messages;

namespace L4Rt.Objects;

/// <summary>
/// A dataspace held as a capability: shared memory of a whole number of pages, created through a
/// <see cref="Factory"/> and charged to its byte quota. <see cref="MapAsync"/> maps it into this process; every task
/// that maps it sees the same physical pages (a write in one is read in the others, no copy). The rights decide the
/// mapping: <see cref="CapRights.Write"/> maps it read-write, <see cref="CapRights.Read"/> read-only (the memory itself
/// is then mapped without write permission). Map the capability to another task with just the rights it needs.
/// </summary>
/// <remarks>
/// A paged dataspace (<see cref="Factory.CreatePagedDataspaceAsync"/>) is mapped the same way; its pages are supplied by
/// its pager on first touch (see <see cref="DataspaceMapping"/>), and the pager itself places them through
/// <see cref="MapBackingAsync"/>.
/// When this capability is revoked (deleted, revoked above it, or the dataspace destroyed, which happens when its
/// creating task ends), this process's runtime takes the pages out of every mapping made through it: see
/// <see cref="DataspaceMapping"/>.
/// </remarks>
public sealed class Dataspace : Capability
{
    internal Dataspace(L4Task task, int slot, CapRights rights)
        : base(task, slot, CapKind.Dataspace, rights)
    {
    }

    /// <summary>
    /// Maps the dataspace into this process: read-write when <paramref name="rights"/> holds <see cref="CapRights.Write"/>
    /// (the capability needs the write right), else read-only (it needs the read right). Without either right in
    /// <paramref name="rights"/>, throws <see cref="ArgumentException"/>; a capability lacking the right fails with
    /// <see cref="L4Status.NoRights"/>.
    /// </summary>
    public async Task<DataspaceMapping> MapAsync(CapRights rights, CancellationToken cancellationToken = default)
    {
        bool writable = (rights & CapRights.Write) != 0;
        if (!writable && (rights & CapRights.Read) == 0)
        {
            throw new ArgumentException("A mapping is read-only (CapRights.Read) or read-write (CapRights.Write).", nameof(rights));
        }

        return await AttachAsync(writable ? DataspaceAttach.ReadWrite : DataspaceAttach.ReadOnly,
            writable ? "map the dataspace read-write" : "map the dataspace read-only", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Maps a paged dataspace as its pager's backing: the mapping through which the pager places pages
    /// (<see cref="PagerBacking.Supply"/>); it never faults pages in itself. Needs the write right; a dataspace made
    /// without a pager fails with <see cref="L4Status.InvalidArgument"/>, and a process where the kernel refuses
    /// userfaultfd with <see cref="PlatformNotSupportedException"/> (the message says why).
    /// </summary>
    public async Task<PagerBacking> MapBackingAsync(CancellationToken cancellationToken = default) =>
        new(await AttachAsync(DataspaceAttach.Backing, "map the dataspace as a pager's backing", cancellationToken).ConfigureAwait(false));

    private async Task<DataspaceMapping> AttachAsync(byte access, string operation, CancellationToken cancellationToken)
    {
        DataspaceMapping mapping = Owner.TrackMapping(new DataspaceMapping(this, access != DataspaceAttach.ReadOnly)); // tracked until disposed
        try
        {
            DataspaceAttach.Reply attached = await Owner.RequestAsync(new DataspaceAttach.Request(Slot, access), operation, cancellationToken).ConfigureAwait(false);
            try
            {
                if (access == DataspaceAttach.Backing)
                {
                    mapping.UseAsBacking(Owner.PageFaults);
                }
                else if (attached.PagerSlot >= 0)
                {
                    PageFaultHandler faults = Owner.PageFaults; // PlatformNotSupportedException where userfaultfd is refused
                    mapping.UsePager(faults, faults.PagerAt(attached.PagerSlot), attached.PagerId, attached.FaultTimeoutMs);
                }
            }
            catch
            {
                attached.Memory.Dispose(); // Map takes it over only once it is called
                throw;
            }

            mapping.Map(attached.Memory, attached.Size, attached.Token);
            if (Owner.WasRevoked(attached.Token))
            {
                mapping.Revoke(); // revoked while the reply was on its way here
            }

            return mapping;
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }
}
