using Microsoft.Win32.SafeHandles;

namespace L4Rt.Memory;

/// <summary>A mapped <see cref="DoorbellLayout"/> (one per receiving thread).</summary>
internal sealed unsafe class DoorbellRegion : IDisposable
{
    private readonly SharedRegion _region;

    private DoorbellRegion(SharedRegion region) => _region = region;

    internal ref DoorbellLayout Layout => ref *(DoorbellLayout*)_region.Base;

    internal SafeFileHandle Handle => _region.Handle;

    internal static DoorbellRegion Create()
    {
        DoorbellRegion doorbell = new(SharedRegion.Create("l4rt-doorbell", DoorbellLayout.RegionSize));
        ref DoorbellLayout layout = ref doorbell.Layout;
        layout.Capacity = DoorbellLayout.MaxLinks;
        layout.Version = DoorbellLayout.CurrentVersion;
        Volatile.Write(ref layout.Magic, DoorbellLayout.MagicValue); // published last; pairs with the attach check
        return doorbell;
    }

    internal static DoorbellRegion Attach(SafeFileHandle fd)
    {
        DoorbellRegion doorbell = new(SharedRegion.Attach(fd, DoorbellLayout.RegionSize));
        ref DoorbellLayout layout = ref doorbell.Layout;
        if (Volatile.Read(ref layout.Magic) != DoorbellLayout.MagicValue || layout.Version != DoorbellLayout.CurrentVersion)
        {
            doorbell.Dispose();
            throw new L4RtException(L4Status.ProtocolViolation, "The region passed as a doorbell has a wrong magic or version.");
        }

        return doorbell;
    }

    /// <summary>Rings the doorbell without a hint (death of a sender, local abort) so the receiver re-checks.</summary>
    internal void Ring()
    {
        ref DoorbellLayout layout = ref Layout;
        Interlocked.Increment(ref layout.Seq); // pairs with the receiver's read of Seq before it sleeps
        Futexes.Wake(ref layout.Seq);
    }

    /// <summary>Marks the receiver dead (broker / peer watch).</summary>
    internal void MarkReceiverDead()
    {
        Interlocked.Exchange(ref Layout.ReceiverDead, 1);
        Ring();
    }

    public void Dispose() => _region.Dispose();
}
