using System.Runtime.CompilerServices;
using L4Rt.Memory;
using Microsoft.Win32.SafeHandles;

namespace L4Rt.Ipc;

/// <summary>
/// The sender's end of a link: a region shared with exactly one receiving thread, plus that thread's
/// doorbell. Used by one sending OS thread at a time through <see cref="L4Thread.Send(SendLink, MsgTag, L4Timeout)"/> and
/// <see cref="L4Thread.Call(SendLink, MsgTag, L4Timeout, L4Timeout)"/>. The broker hands these out for
/// gate capabilities; until then <see cref="DirectLink"/> sets them up.
/// </summary>
public sealed class SendLink : IDisposable
{
    private readonly Lock _lifetime = new();
    private bool _disposed;
    private OwnerGuard _guard;
    private int _watchedPid; // the receiver's pid for a direct link (0: the broker reports its death)

    private SendLink(LinkRegion region, DoorbellRegion doorbell)
    {
        Region = region;
        Doorbell = doorbell;
        int hint = region.Layout.HintIndex; // read once; a bad value only disables hints, the receiver scans
        HintIndex = (uint)hint < DoorbellLayout.MaxLinks ? hint : -1;
        NextSeq = LinkState.Seq(region.Layout.StateWord.ReadAcquire()); // once, at attach: continue the creator's sequence
    }

    internal LinkRegion Region { get; }

    internal DoorbellRegion Doorbell { get; }

    internal int HintIndex { get; }

    /// <summary>The broker's id of this link (0 for a direct link), for closing it there.</summary>
    internal long BrokerId { get; set; }

    /// <summary>Where the typed items of a message on this link are offered (null for a direct link, which carries words only).</summary>
    internal IItemTransfer? ItemTransfer { get; set; }

    /// <summary>Sequence number of the last posted message; owned by the sending thread.</summary>
    internal int NextSeq { get; set; }

    /// <summary>The receiver is gone (its thread was disposed or its process died).</summary>
    public bool IsDestinationDeleted => Region.Layout.ReceiverDeadFlag.IsRaisedAcquire(); // pairs with the death marker's raise

    /// <summary>Maps a link received as descriptors (link region, receiver's doorbell). Takes ownership of both.</summary>
    internal static SendLink Attach(SafeFileHandle link, SafeFileHandle doorbell)
    {
        LinkRegion region;
        try
        {
            region = LinkRegion.Attach(link);
        }
        catch
        {
            doorbell.Dispose();
            throw;
        }

        try
        {
            return new SendLink(region, DoorbellRegion.Attach(doorbell));
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>Called by the broker or the peer watch when the receiving side died.</summary>
    internal void MarkReceiverDead()
    {
        lock (_lifetime)
        {
            if (!_disposed)
            {
                Region.MarkDead(senderSide: false);
            }
        }
    }

    /// <summary>Marks the link dead when process <paramref name="pid"/> (the receiver of a direct link) exits, until the link is disposed.</summary>
    internal void WatchReceiver(int pid)
    {
        _watchedPid = pid;
        PeerWatch.Instance.Register(pid, MarkReceiverDead);
    }

    /// <summary>Wakes the local sender if it sleeps on this link (it then re-checks for an abort).</summary>
    internal void WakeSender()
    {
        lock (_lifetime)
        {
            if (!_disposed)
            {
                WakeSenderUnchecked();
            }
        }
    }

    /// <summary>Starts a use by a sending operation; false once the link is disposed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // every operation: the guard's two plain accesses, inline
    internal bool Enter()
    {
        if (_guard.TryEnter(out bool release))
        {
            return true;
        }

        if (release)
        {
            Release();
        }

        return false;
    }

    /// <summary>Ends a use; releases the mappings if the link was disposed meanwhile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Exit()
    {
        if (_guard.Exit())
        {
            Release();
        }
    }

    /// <summary>
    /// Closes the link: a receiver in a closed wait on it returns <see cref="L4Status.DestinationDeleted"/>.
    /// Safe from any thread: an operation in progress finishes first, then the mappings go.
    /// </summary>
    public void Dispose()
    {
        lock (_lifetime)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Region.Layout.SenderDeadFlag.RaiseFullFence(); // pairs with the receiver's SenderDead check after the ring below
            Doorbell.Ring();
        }

        WakeSenderUnchecked(); // a sender asleep on this link re-checks and leaves
        if (_watchedPid != 0)
        {
            PeerWatch.Instance.Unregister(_watchedPid, MarkReceiverDead); // the watch must not keep a closed link alive
        }

        if (_guard.Dispose())
        {
            Release();
        }
    }

    private void WakeSenderUnchecked()
    {
        Region.Layout.SenderWakeWord.IncrementFullFence(); // pairs with the sender's read of SenderWake before its futex wait
        Futexes.Wake(ref Region.Layout.SenderWake);
    }

    private void Release()
    {
        Region.Dispose();
        Doorbell.Dispose();
    }
}
