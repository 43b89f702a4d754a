using L4Rt.Memory;

namespace L4Rt.Ipc;

/// <summary>
/// The receiving thread's end of a link, with the label that <see cref="L4Thread.Wait"/> reports for
/// messages arriving through it. The label lives here, in the receiver's private memory; the sender
/// cannot read or change it.
/// </summary>
public sealed class ReceiveLink : IDisposable
{
    private readonly Lock _lifetime = new();
    private bool _disposed;
    private int _watchedPid; // the sender's pid for a direct link (0: the broker reports its death)

    internal ReceiveLink(L4Thread owner, LinkRegion region, int index, ulong label, bool isIrq = false)
    {
        Owner = owner;
        Region = region;
        Index = index;
        Label = label;
        IsIrq = isIrq;
    }

    /// <summary>True when this endpoint is an IRQ object: its State counts triggers, delivered with <see cref="SystemProtocol.Irq"/>.</summary>
    public bool IsIrq { get; }

    /// <summary>The label reported for messages through this link.</summary>
    public ulong Label { get; }

    /// <summary>The sender is gone (it closed the link or its process died).</summary>
    public bool IsSenderDeleted => Region.Layout.SenderDeadFlag.IsRaisedAcquire(); // pairs with the death marker's raise

    internal L4Thread Owner { get; }

    internal LinkRegion Region { get; }

    internal int Index { get; }

    internal bool IsDisposed => Volatile.Read(ref _disposed);

    /// <summary>
    /// Called by the peer watch when the sending process of a direct link died: blocked operations on the link
    /// return, and the owner's next open wait reports the death (<see cref="L4Thread.Wait"/>).
    /// </summary>
    internal void MarkSenderDead()
    {
        lock (_lifetime)
        {
            if (!_disposed)
            {
                Region.MarkDead(senderSide: true);
                Owner.ReportSenderDeath(this);
            }
        }
    }

    /// <summary>Marks the link dead when process <paramref name="pid"/> (the sender of a direct link) exits, until the link is disposed.</summary>
    internal void WatchSender(int pid)
    {
        _watchedPid = pid;
        PeerWatch.Instance.Register(pid, MarkSenderDead);
    }

    /// <summary>
    /// Removes the link from its thread. A sender blocked on it returns <see cref="L4Status.DestinationDeleted"/>.
    /// The mapping is released by the owning thread (at its next wait or its disposal), never under its feet.
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
            Region.MarkDead(senderSide: false);
            Owner.Retire(this);
        }

        if (_watchedPid != 0)
        {
            PeerWatch.Instance.Unregister(_watchedPid, MarkSenderDead); // the watch must not keep a removed link alive
        }
    }
}
