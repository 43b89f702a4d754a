using System.Runtime.CompilerServices;
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

    /// <summary>
    /// Sets hint bit <paramref name="hint"/> (if in range), then bumps the counter and wakes the receiver if it
    /// sleeps. Used after posting a message or triggering an IRQ. Returns whether it had to wake the receiver.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool RingWithHint(int hint)
    {
        ref DoorbellLayout d = ref Layout;
        if ((uint)hint < DoorbellLayout.MaxLinks)
        {
            Interlocked.Or(ref d.Hints[hint >> 6], 1UL << hint);
            Interlocked.Or(ref d.Summary, 1UL << (hint >> 6)); // after the word: the receiver clears the summary before draining
        }

        d.SeqWord.IncrementFullFence(); // full fence: the read of ReceiverWaiting below pairs with the receiver's Exchange before it sleeps
        if (d.ReceiverWaitingWord.ReadAcquire() == DoorbellLayout.ReceiverAsleep)
        {
            Futexes.Wake(ref d.Seq, 1);
            WakeHint.WokeSleeper(Volatile.Read(ref d.AsleepSince));
            return true;
        }

        return false;
    }

    /// <summary>Rings the doorbell without a hint (death of a sender, local abort) so the receiver re-checks.</summary>
    internal void Ring()
    {
        ref DoorbellLayout layout = ref Layout;
        layout.SeqWord.IncrementFullFence(); // pairs with the receiver's read of Seq before it sleeps
        Futexes.Wake(ref layout.Seq);
    }

    /// <summary>Marks the receiver dead (broker / peer watch).</summary>
    internal void MarkReceiverDead()
    {
        Layout.ReceiverDeadFlag.RaiseFullFence(); // pairs with the senders' ReceiverDead checks before they post or sleep
        Ring();
    }

    public void Dispose() => _region.Dispose();
}
