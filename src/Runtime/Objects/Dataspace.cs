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

        DataspaceMapping mapping = Owner.TrackMapping(new DataspaceMapping(this, writable)); // tracked until disposed
        try
        {
            DataspaceAttach.Reply attached = await Owner.RequestAsync(new DataspaceAttach.Request(Slot, writable ? (byte)1 : (byte)0),
                writable ? "map the dataspace read-write" : "map the dataspace read-only", cancellationToken).ConfigureAwait(false);
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
