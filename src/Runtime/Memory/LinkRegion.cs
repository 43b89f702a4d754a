using Microsoft.Win32.SafeHandles;

namespace L4Rt.Memory;

/// <summary>A mapped <see cref="LinkLayout"/>. Fields are reached by reference; see the layout for who writes what.</summary>
internal sealed unsafe class LinkRegion : IDisposable
{
    private readonly SharedRegion _region;

    private LinkRegion(SharedRegion region) => _region = region;

    internal ref LinkLayout Layout => ref *(LinkLayout*)_region.Base;

    internal SafeFileHandle Handle => _region.Handle;

    /// <summary>Creates a link region whose sender will ring doorbell bit <paramref name="hintIndex"/>.</summary>
    internal static LinkRegion Create(int hintIndex)
    {
        LinkRegion link = new(SharedRegion.Create("l4rt-link", LinkLayout.RegionSize));
        ref LinkLayout layout = ref link.Layout;
        layout.HintIndex = hintIndex;
        layout.Version = LinkLayout.CurrentVersion;
        Volatile.Write(ref layout.Magic, LinkLayout.MagicValue); // published last; pairs with the attach check
        return link;
    }

    /// <summary>Maps a link region received from a peer; checks size, seals, magic and version.</summary>
    internal static LinkRegion Attach(SafeFileHandle fd)
    {
        LinkRegion link = new(SharedRegion.Attach(fd, LinkLayout.RegionSize));
        ref LinkLayout layout = ref link.Layout;
        if (Volatile.Read(ref layout.Magic) != LinkLayout.MagicValue || layout.Version != LinkLayout.CurrentVersion)
        {
            link.Dispose();
            throw new L4RtException(L4Status.ProtocolViolation, "The region passed as a link has a wrong magic or version.");
        }

        return link;
    }

    /// <summary>
    /// Marks one side dead and wakes the other (used by the broker and the local peer watch). The wake
    /// counter is bumped so a waiter that checked the flag just before cannot sleep through it.
    /// </summary>
    internal void MarkDead(bool senderSide)
    {
        ref LinkLayout layout = ref Layout;
        (senderSide ? layout.SenderDeadFlag : layout.ReceiverDeadFlag).RaiseFullFence(); // pairs with the other side's dead check after it wakes
        layout.SenderWakeWord.IncrementFullFence(); // pairs with the sender's read of SenderWake before it sleeps
        Futexes.Wake(ref layout.SenderWake);
    }

    public void Dispose() => _region.Dispose();
}
